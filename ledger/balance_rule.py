"""The balance rule's doors for Python.

Pending, available and available as of a cutoff are defined once, by the SQL function
`ledger_payable_balance` in ledger/sql/balance.sql. Static SQL (the reports) and the ORM call the
function; SQL built in Python puts the function's body in its statement with `payable_balance_sql`,
as PostgreSQL inlines it, so a statement prepared once per connection (the balance read) does not
pay for parsing the function each time it is planned (docs/decisions.md gives the A/B).
"""

import re
from datetime import datetime
from functools import cache
from pathlib import Path

from django.db.models import BigIntegerField, DateTimeField, F, Func, QuerySet, Value

from .models import RestaurantBalance

BALANCE_RULE_FILE = Path(__file__).resolve().parent / "sql" / "balance.sql"
FUNCTION = "ledger_payable_balance"
# The function's parameters, in order, and the figures (columns) it returns.
PARAMETERS = ("restaurant_key", "currency_code", "payable", "moment", "cutoff")
FIGURES = ("pending", "available", "available_at_cutoff")

_BODY = re.compile(r"\bAS \$\$\n(?P<body>.*?)\$\$;", re.S)
_PARAMETER = re.compile(r"\b(?:" + "|".join(PARAMETERS) + r")\b")


@cache
def function_body() -> str:
    """The SQL of `ledger_payable_balance`, as balance.sql defines it (its parameters by name)."""
    match = _BODY.search(BALANCE_RULE_FILE.read_text(encoding="utf-8"))
    if match is None:
        raise RuntimeError(f"{BALANCE_RULE_FILE} holds no function body (AS $$ … $$;).")
    return match.group("body").strip()


def payable_balance_sql(*, restaurant_id: str, currency: str, payable: str, moment: str,
                        cutoff: str = "NULL") -> str:
    """`ledger_payable_balance(restaurant_id, currency, payable, moment, cutoff)` for a statement
    built in Python (arguments are SQL expressions): the function's body with the arguments put in,
    a parenthesised subquery to join LATERAL, with the columns pending, available and
    available_at_cutoff. The same rows as calling the function."""
    arguments = {
        "restaurant_key": f"({restaurant_id})::text",
        "currency_code": f"({currency})::text",
        "payable": f"({payable})::bigint",
        "moment": f"({moment})::timestamptz",
        "cutoff": f"({cutoff})::timestamptz",
    }
    return "(" + _PARAMETER.sub(lambda name: arguments[name.group(0)], function_body()) + ")"


class PayableBalanceFigure(Func):
    """One figure of `ledger_payable_balance` for the row's restaurant, currency and projected payable
    (by default the columns of a RestaurantBalance row), as a scalar subquery."""

    function = FUNCTION
    template = "(SELECT figures.%(figure)s FROM %(function)s(%(expressions)s) AS figures)"
    output_field = BigIntegerField()

    def __init__(self, figure: str, *, moment: datetime, cutoff: datetime | None = None,
                 restaurant_id: str = "restaurant_id", currency: str = "currency", payable: str = "payable"):
        if figure not in FIGURES:
            raise ValueError(f"{FUNCTION} has no figure {figure!r}.")
        arguments = [F(restaurant_id), F(currency), F(payable), Value(moment, output_field=DateTimeField())]
        if cutoff is not None:
            arguments.append(Value(cutoff, output_field=DateTimeField()))
        super().__init__(*arguments, figure=figure)


def restaurant_balances_annotated(*, now: datetime) -> QuerySet:
    """RestaurantBalance rows with their `pending` and `available` at `now` annotated."""
    return RestaurantBalance.objects.annotate(
        pending=PayableBalanceFigure("pending", moment=now),
        available=PayableBalanceFigure("available", moment=now),
    )
