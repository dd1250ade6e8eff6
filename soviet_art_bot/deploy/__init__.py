"""Deploy the bot to AWS Lambda (``lambda_deploy.sh``), split by job:

- :mod:`.settings`   the bot's settings through the bot's resolver, plus the
                     deploy's own (function name, schedule, alarms, size)
- :mod:`.build`      the reproducible zip
- :mod:`.aws`        clients (read-only for a plan), errors, the account
- :mod:`.policy`     the role's trust and permission documents
- :mod:`.reconcile`  plan / apply / destroy over reconcilers, one class per
                     kind of resource in :mod:`.iam`, :mod:`.function`,
                     :mod:`.schedule` and :mod:`.alarms`
- :mod:`.deployment` the checks before a deploy and the resources in order
- :mod:`.cli`        the command line

A bad setting stops a run before anything is built or changed; a second
deploy compares what exists with what is wanted and changes only the
difference. Secrets never pass through here: the function reads them from
SSM at run time, and the deploy only checks, by name, that they exist.
"""

from .alarms import heartbeat_window
from .build import Build, build_zip, check_zip, requirement_files
from .settings import PASSTHROUGH, DeployConfig, load_config, parse_schedule

__all__ = [
    "PASSTHROUGH",
    "Build",
    "DeployConfig",
    "build_zip",
    "check_zip",
    "heartbeat_window",
    "load_config",
    "parse_schedule",
    "requirement_files",
]
