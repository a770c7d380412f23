from django.urls import path

from .apis import ProcessorEventBatchApi, ProcessorEventIngestApi
from .dispute_apis import DisputeDetailApi, DisputeListApi

urlpatterns = [
    path("processor/events", ProcessorEventIngestApi.as_view(), name="processor-event-ingest"),
    path("processor/events/batch", ProcessorEventBatchApi.as_view(), name="processor-event-batch"),
    path("disputes", DisputeListApi.as_view(), name="dispute-list"),
    path("disputes/<str:dispute_id>", DisputeDetailApi.as_view(), name="dispute-detail"),
]
