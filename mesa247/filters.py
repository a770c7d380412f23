"""Query parameters as the OpenAPI schema says: the list endpoints' filters, read one way, and
the rule every endpoint's query follows (each parameter at most once)."""


from .domain_errors import InvalidInput, validation_errors

EMPTY_FILTER = "Must not be empty: leave the parameter out to list every value."
REPEATED_PARAMETER = "Give this parameter once."


def repeated_parameters(query_params, names) -> dict:
    """Field errors for each of `names` given more than once. The schema's parameters are single
    values, and a repeated one would mean whichever copy a reader happened to take."""
    return {name: [REPEATED_PARAMETER] for name in names if len(query_params.getlist(name)) > 1}


def refuse_repeated_parameters(query_params, names) -> None:
    if errors := repeated_parameters(query_params, names):
        raise InvalidInput("Invalid query parameters.", errors=errors)


def filters_from_query(filterset_class, query_params) -> dict:
    """The filters of a list endpoint, validated; an empty or invalid value is a 400, never ignored."""
    errors = {name: [EMPTY_FILTER] for name in filterset_class.base_filters if "" in query_params.getlist(name)}
    errors.update(repeated_parameters(query_params, filterset_class.base_filters))
    filters = filterset_class(query_params, queryset=filterset_class._meta.model.objects.none())
    if not filters.is_valid():
        errors = {**validation_errors(dict(filters.errors)), **errors}
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return {key: value for key, value in filters.form.cleaned_data.items() if value}
