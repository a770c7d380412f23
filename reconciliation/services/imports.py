"""Receiving a settlement report: checked whole, then COPY'd into a staging table and stored with its lines.

The report row is inserted first, so two uploads of one report at once wait on its primary key: the
second sees the first's report once it commits (the same digest: nothing new; another: 409).
"""

import logging
import tempfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django_q.conf import Conf
from django_q.tasks import async_task

from audit.models import AuditAction
from audit.services import audit_record
from mesa247.observability import log_context

from ..exceptions import ReportConflict, ReportRefused
from ..models import ReportStatus, SettlementReport
from ..parsing import MAX_ERRORS, STAGED_COLUMNS, ReportParse, report_parse

logger = logging.getLogger("mesa247.reconciliation")

RECONCILE_TASK = "reconciliation.tasks.report_reconcile_task"
COPY_CHUNK = 1 << 20
_STAGING_COLUMNS_SQL = """report_id text, line_number integer, line_id text, category text, source_id text,
    restaurant_id text, currency text, amount bigint, fee bigint, net bigint, occurred_at timestamptz,
    payment_id text"""
_COLUMNS = ", ".join(("report_id", "line_number", *STAGED_COLUMNS))


@dataclass(frozen=True)
class ReportReceipt:
    report: SettlementReport
    created: bool  # False: the same report was received before, and nothing new was written


def report_refused(parse: ReportParse) -> ReportRefused:
    shown = parse.errors[:MAX_ERRORS]
    return ReportRefused(
        f"The report has {parse.error_count} error(s); nothing was written."
        + (f" The first {len(shown)} are listed." if parse.error_count > len(shown) else ""),
        errors={f"line {error['line']}": [f"{error['column']}: {error['message']}" if error["column"]
                                          else error["message"]] for error in shown},
        lines=shown, error_count=parse.error_count,
    )


def report_receive(*, stream: IO[bytes], uploaded_by=None, actor_label: str | None = None,
                   address: str | None = None, enqueue: bool = True) -> ReportReceipt:
    """Check the whole report in `stream` and store it with its lines, queued for reconciliation.

    Raises ReportRefused (nothing written) for a file that breaks any rule, and ReportConflict when its
    report_id was received with other content. `enqueue=False` leaves the reconciliation to the caller
    (the `reconcile` command runs it in-process). `actor_label` (e.g. "token:<name>") and `address` are
    the uploader's, for the audit trail.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as staged:
        parse = report_parse(stream, supported_currencies=settings.SUPPORTED_CURRENCIES, staged=staged)
        if parse.error_count:
            raise report_refused(parse)
        assert parse.report_id is not None  # noqa: S101 (a report with lines and no errors has its id)
        staged.seek(0)
        with log_context(report_id=parse.report_id):
            try:
                report = _report_store(parse, staged, uploaded_by=uploaded_by, actor_label=actor_label,
                                       address=address, enqueue=enqueue)
            except IntegrityError:
                existing = SettlementReport.objects.filter(pk=parse.report_id).first()
                if existing is None:
                    raise
                if existing.digest != parse.digest:
                    raise ReportConflict(
                        f"Report {parse.report_id} was already received with other content; nothing was written.",
                        report_id=parse.report_id) from None
                logger.info("settlement report received again")
                return ReportReceipt(existing, False)
            logger.info("settlement report received", extra={"lines": parse.lines})
            return ReportReceipt(report, True)


@transaction.atomic(durable=True)
def _report_store(parse: ReportParse, staged: IO[str], *, uploaded_by, actor_label: str | None,
                  address: str | None, enqueue: bool) -> SettlementReport:
    # First: a concurrent upload of the same report waits here, and fails once this one commits.
    assert parse.report_id is not None  # noqa: S101 (checked by the caller; for the type checker)
    report = SettlementReport.objects.create(report_id=parse.report_id, digest=parse.digest, lines=parse.lines,
                                             uploaded_by=uploaded_by)
    audit_record(action=AuditAction.RECONCILIATION_REPORT_UPLOADED, actor=uploaded_by, address=address,
                 actor_label=actor_label or (None if uploaded_by is not None else "system:reconcile"), obj=report,
                 after={"report_id": report.pk, "lines": parse.lines, "digest": parse.digest})
    with connection.cursor() as cursor:
        # A temporary table dropped at commit: nothing outlives the transaction (fine behind PgBouncer).
        cursor.execute(f"CREATE TEMPORARY TABLE reconciliation_staged ({_STAGING_COLUMNS_SQL}) ON COMMIT DROP")
        with cursor.copy(f"COPY reconciliation_staged ({_COLUMNS}) FROM STDIN") as copy:
            while chunk := staged.read(COPY_CHUNK):
                copy.write(chunk)
        cursor.execute(
            f"""SELECT line_id, array_agg(line_number ORDER BY line_number) FROM reconciliation_staged
                 GROUP BY line_id HAVING count(*) > 1 ORDER BY min(line_number) LIMIT {MAX_ERRORS}""")
        repeated = cursor.fetchall()
        if repeated:
            parse.errors = [{"line": numbers[1], "column": "line_id",
                             "message": f"line_id {line_id!r} is on lines {', '.join(map(str, numbers))}."}
                            for line_id, numbers in repeated]
            parse.error_count = len(repeated)
            raise report_refused(parse)
        cursor.execute(
            f"""INSERT INTO reconciliation_settlementline ({_COLUMNS}, fields)
                SELECT {_COLUMNS}, '[]'::jsonb FROM reconciliation_staged""")
        cursor.execute("DROP TABLE reconciliation_staged")
    if enqueue:
        report_enqueue(report_id=report.pk)
    return report


def report_enqueue(*, report_id: str) -> None:
    """Queue the report's reconciliation: in this transaction with the ORM broker, after commit otherwise."""
    sync = bool(Conf.SYNC or settings.Q_CLUSTER.get("sync"))

    def push():
        async_task(RECONCILE_TASK, report_id, task_name=f"reconcile-{report_id}"[:100], group="reconciliation",
                   sync=sync)

    if sync or Conf.ORM != "default":
        transaction.on_commit(push)
    else:
        push()


def report_status_set(*, report_id: str, status: str, error: str = "") -> None:
    SettlementReport.objects.filter(pk=report_id).exclude(status=ReportStatus.RECONCILED).update(
        status=status, error=error)
