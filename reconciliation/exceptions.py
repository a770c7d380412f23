from mesa247.domain_errors import Conflict, InvalidInput, NotFound, Unprocessable


class ReportRefused(InvalidInput):
    """The file is not a valid settlement report; `lines` lists its problems with their line numbers."""

    code = "report_invalid"
    title = "Settlement report refused"


class ReportConflict(Conflict):
    """The report_id was already received with other content."""

    code = "report_conflict"
    title = "Report id already used with other content"


class ReportNotFound(NotFound):
    code = "report_not_found"
    title = "Settlement report not found"


class ExceptionNotFound(NotFound):
    code = "exception_not_found"
    title = "Reconciliation exception not found"


class ExceptionAlreadyResolved(Conflict):
    code = "exception_resolved"
    title = "Exception already resolved"


class ResolutionNotApplicable(Unprocessable):
    """The action does not fit the exception (its outcome, its line's category, the payout's status)."""

    code = "resolution_not_applicable"
    title = "Resolution does not fit the exception"
