"""How a run's Job ended: succeeded, failed and why, retrying, or cancelled.

The Job controller's conditions say that a Job is over (Complete, Failed)
and its reason (DeadlineExceeded past ``timeout``, BackoffLimitExceeded past
``retries``); the last pod says what actually happened to the cell, so it
explains a failure whenever it can. A pod that failed while retries remain
is an attempt, not the end: the run stays pending, "retrying".

What it deliberately does not do: word a container's end (that is
``runs.explain_container``) or wait for the last pod to arrive; whoever
follows the run decides how long to wait for it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dh_jupyter.runs import endings
from dh_jupyter.runs.explain_container import Ending, terminated
from dh_jupyter.runs.explain_seen import (
    Obj,
    Seen,
    api_time,
    condition,
    container,
    short,
)
from dh_jupyter.runs.status import Phase, Status

# Said when the Job went away without this process cancelling it.
_DELETED = (
    "its Job was deleted before it finished",
    "Someone or something else deleted it; run the cell again.",
)


def finished_status(
    seen: Seen, job: Obj, pod: Obj | None, started: datetime | None
) -> Status | None:
    """The final status of a Job the controller says is over, or None."""
    complete = condition(job, "Complete") or condition(job, "SuccessCriteriaMet")
    if complete is not None:
        end = api_time(job.get("status", {}).get("completionTime")) or api_time(
            complete.get("lastTransitionTime")
        )
        return Status(Phase.SUCCEEDED, started=started, finished=end, exit_code=0)
    failed = condition(job, "Failed") or condition(job, "FailureTarget")
    if failed is None:
        return None
    end = api_time(failed.get("lastTransitionTime"))
    reason, hint, code = _failure(seen, job, pod, failed)
    return Status(
        Phase.FAILED, reason, hint, started=started, finished=end, exit_code=code
    )


def _failure(seen: Seen, job: Obj, pod: Obj | None, failed: Obj) -> Ending:
    cause = failed.get("reason", "")
    if cause == "DeadlineExceeded":
        deadline = job.get("spec", {}).get("activeDeadlineSeconds")
        reason, hint = endings.timed_out(int(deadline) if deadline else 0)
        return (reason, hint, None)
    if pod is not None:
        explained = terminated(seen, job, pod)
        if explained is not None:
            return explained
    if cause == "BackoffLimitExceeded":
        failures = int(job.get("status", {}).get("failed", 0) or 0)
        retries = int(job.get("spec", {}).get("backoffLimit", 0) or 0)
        times = f" {failures} times" if failures > 1 else ""
        allowed = f", more than its {retries} retries allow" if retries else ""
        return (
            f"it failed{times}{allowed}",
            "The logs of the last attempt show why.",
            None,
        )
    message = short(failed.get("message", "")) or cause or "the Job failed"
    return (message[0].lower() + message[1:], "", None)


def ended_pod(seen: Seen, job: Obj, pod: Obj) -> Status:
    """The status of a run whose latest pod ended, before the Job says so."""
    ended = (container(pod) or {}).get("state", {}).get("terminated") or {}
    started = api_time(ended.get("startedAt"))
    end = api_time(ended.get("finishedAt"))
    if pod.get("status", {}).get("phase") == "Succeeded" or ended.get("exitCode") == 0:
        return Status(Phase.SUCCEEDED, started=started, finished=end, exit_code=0)
    explained = terminated(seen, job, pod) or ("its pod failed", "", None)
    retries = int(job.get("spec", {}).get("backoffLimit", 0) or 0)
    if len(seen.pods) <= retries:
        return Status(
            Phase.PENDING,
            f"attempt {len(seen.pods)} failed ({explained[0]}); retrying",
            started=started,
        )
    reason, hint, code = explained
    return Status(
        Phase.FAILED, reason, hint, started=started, finished=end, exit_code=code
    )


def cancelled(seen: Seen, started: datetime | None) -> Status:
    """The status of a run whose Job was cancelled or deleted while it ran."""
    end = datetime.now(timezone.utc)
    return endings.cancelled(started, end, None if seen.cancelled else _DELETED)
