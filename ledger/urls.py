from django.urls import path, re_path

from mesa247.identifiers import RESTAURANT_ID_PATTERN

from .apis import (
    AdjustmentListApi,
    RestaurantBalanceApi,
    RestaurantBalanceListApi,
    RestaurantLedgerListApi,
    RestaurantStatementApi,
)

restaurant = rf"restaurants/(?P<restaurant_id>{RESTAURANT_ID_PATTERN})"

urlpatterns = [
    path("adjustments", AdjustmentListApi.as_view(), name="adjustment-list"),
    re_path(rf"^{restaurant}/balance$", RestaurantBalanceApi.as_view(), name="restaurant-balance"),
    re_path(rf"^{restaurant}/balances$", RestaurantBalanceListApi.as_view(), name="restaurant-balances"),
    re_path(rf"^{restaurant}/ledger$", RestaurantLedgerListApi.as_view(), name="restaurant-ledger"),
    re_path(rf"^{restaurant}/statement$", RestaurantStatementApi.as_view(), name="restaurant-statement"),
]
