from django.urls import path, re_path

from mesa247.identifiers import RESTAURANT_ID_PATTERN

from .apis import PayoutDetailApi, PayoutListApi, PayoutRunCreateApi, PayoutRunDetailApi, RestaurantHoldListApi

urlpatterns = [
    path("payouts", PayoutListApi.as_view(), name="payout-list"),
    path("payouts/run", PayoutRunCreateApi.as_view(), name="payout-run-create"),
    # Any segment: the selector answers payout_run_not_found for a non-UUID, and matches UUIDs in any case.
    path("payouts/runs/<str:run_id>", PayoutRunDetailApi.as_view(), name="payout-run-detail"),
    re_path(rf"^restaurants/(?P<restaurant_id>{RESTAURANT_ID_PATTERN})/holds$", RestaurantHoldListApi.as_view(),
            name="restaurant-payout-holds"),
    re_path(r"^payouts/(?P<payout_id>[A-Za-z0-9_]{1,64})$", PayoutDetailApi.as_view(), name="payout-detail"),
]
