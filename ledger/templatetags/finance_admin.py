"""Template filters of the finance back office."""

from django import template

from mesa247.money import money as format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ row.available|money:row.currency }} → "PEN 108.00"."""
    return format_money(amount, currency)


@register.inclusion_tag("admin/charts/chart.html")
def svg_chart(chart):
    """{% svg_chart chart %}: a mesa247.svg_charts.Chart drawn as inline SVG with its numbers in a table."""
    return {"chart": chart}
