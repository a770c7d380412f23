from django.urls import path

from .apis import ProcessorEventBatchApi, ProcessorEventIngestApi

urlpatterns = [
    path("processor/events", ProcessorEventIngestApi.as_view(), name="processor-event-ingest"),
    path("processor/events/batch", ProcessorEventBatchApi.as_view(), name="processor-event-batch"),
]
