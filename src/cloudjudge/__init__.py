"""cloudjudge — クラウドサービス利用判断システム.

``cloudjudge.judge(request_dict)`` gives the same decision as
``cloudjudge judge --format json`` and ``POST /api/v1/judgements``.
"""

from cloudjudge.engine import Decision, RequestError, judge

__all__ = ["Decision", "RequestError", "judge"]
__version__ = "0.1.0"
