"""Every piece of user-facing text, in English and Simplified Chinese."""
from __future__ import annotations

CATALOG: dict[str, dict[str, str]] = {
    "nav.wall": {"en": "Wall", "zh": "大屏"},
    "nav.sources": {"en": "Sources", "zh": "数据源"},
    "status.ok": {"en": "Healthy", "zh": "正常"},
    "status.warn": {"en": "Degraded", "zh": "降级"},
    "status.crit": {"en": "Critical", "zh": "严重"},
    "status.nodata": {"en": "No data", "zh": "无数据"},
    "wall.chains": {"en": "Business chains", "zh": "业务链路"},
    "wall.incidents": {"en": "Active incidents", "zh": "进行中的事件"},
    "wall.no_incidents": {"en": "No active incidents", "zh": "无进行中的事件"},
    "wall.alerts_firing": {"en": "Alerts firing", "zh": "告警中"},
    "wall.services": {"en": "Services", "zh": "服务"},
    "wall.stale_since": {"en": "stale since {time}", "zh": "{time} 起数据过期"},
    "wall.no_chains": {"en": "No business chains yet: waiting for the first poll.", "zh": "暂无业务链路：等待首次采集。"},
    "wall.age_m": {"en": "{m} min", "zh": "{m} 分钟"},
    "wall.age_h": {"en": "{h} h {m} min", "zh": "{h} 小时 {m} 分"},
    "wall.age_d": {"en": "{d} d {h} h", "zh": "{d} 天 {h} 小时"},
    "wall.waiting": {"en": "waiting for data", "zh": "等待数据"},
    "wall.more": {"en": "+{count} more", "zh": "另有 {count} 条"},
    "wall.preplan": {"en": "Pre-plan", "zh": "应急预案"},
    "wall.unassigned": {"en": "unassigned", "zh": "未分派"},
    "wall.banner": {"en": "P1 major incident", "zh": "P1 重大事件"},
    "wall.banner_unacked": {"en": "not acknowledged", "zh": "未响应"},
    "wall.opened": {"en": "opened {time}", "zh": "{time} 发生"},
    "wall.changes": {"en": "Changes in progress", "zh": "进行中的变更"},
    "wall.no_changes": {"en": "No change in progress", "zh": "无进行中的变更"},
    "wall.next_change": {"en": "Next: {title} at {time}", "zh": "下一个：{title}，{time}"},
    "wall.change_window": {"en": "{start}–{end}", "zh": "{start}–{end}"},
    "wall.chaos": {"en": "Latest chaos runs", "zh": "最近的混沌演练"},
    "wall.no_chaos": {"en": "No chaos runs yet", "zh": "暂无混沌演练"},
    "wall.recovery": {"en": "recovered in {seconds} s", "zh": "{seconds} 秒恢复"},
    "chaos.passed": {"en": "Passed", "zh": "通过"},
    "chaos.failed": {"en": "Failed", "zh": "未通过"},
    "chaos.aborted": {"en": "Aborted", "zh": "中止"},
    "chaos.running": {"en": "Running", "zh": "进行中"},
    "chaos.not_run": {"en": "Not run", "zh": "未运行"},
    "change.emergency": {"en": "Emergency", "zh": "紧急"},
    "change.normal": {"en": "Normal", "zh": "常规"},
    "change.standard": {"en": "Standard", "zh": "标准"},
    "kpi.availability": {"en": "Availability today", "zh": "今日可用率"},
    "kpi.mtta": {"en": "MTTA 30 d", "zh": "平均响应时长 30天"},
    "kpi.mttr": {"en": "MTTR 30 d", "zh": "平均恢复时长 30天"},
    "kpi.changes": {"en": "Change success 30 d", "zh": "变更成功率 30天"},
    "kpi.chaos": {"en": "Chaos pass rate 30 d", "zh": "混沌演练通过率 30天"},
    "kpi.count": {"en": "n = {count}", "zh": "样本 {count}"},
    "unit.min": {"en": "{value} min", "zh": "{value} 分钟"},
    "unit.h": {"en": "{value} h", "zh": "{value} 小时"},
    "unit.d": {"en": "{value} d", "zh": "{value} 天"},
    "market.cn": {"en": "A-share", "zh": "A股"},
    "market.hk": {"en": "Hong Kong", "zh": "港股"},
    "session.pre_open": {"en": "Pre-open", "zh": "集合竞价"},
    "session.morning": {"en": "Morning session", "zh": "上午交易"},
    "session.lunch": {"en": "Lunch break", "zh": "午间休市"},
    "session.afternoon": {"en": "Afternoon session", "zh": "下午交易"},
    "session.closed": {"en": "Closed", "zh": "休市"},
    "tile.rule": {"en": "Red above p95 {p95} ms or errors {err}; amber above {amber_p95} ms or {amber_err}.",
                  "zh": "p95 超过 {p95} ms 或错误率超过 {err} 为红；超过 {amber_p95} ms 或 {amber_err} 为黄。"},
    "tile.metrics": {"en": "requests/s · p95 · errors", "zh": "请求/秒 · p95 · 错误率"},
    "nav.kiosk": {"en": "Kiosk", "zh": "展示模式"},
    "nav.language": {"en": "中文", "zh": "English"},
    "sources.title": {"en": "Sources", "zh": "数据源"},
    "sources.summary": {"en": "{ok} of {total} sources healthy", "zh": "{total} 个数据源中 {ok} 个正常"},
    "sources.source": {"en": "Source", "zh": "数据源"},
    "sources.kind": {"en": "Kind", "zh": "类型"},
    "sources.state": {"en": "State", "zh": "状态"},
    "sources.last_success": {"en": "Last success", "zh": "最近成功"},
    "sources.last_attempt": {"en": "Last attempt", "zh": "最近尝试"},
    "sources.rows": {"en": "Rows", "zh": "行数"},
    "sources.duration": {"en": "Poll ms", "zh": "采集耗时 ms"},
    "sources.error": {"en": "Error", "zh": "错误"},
    "sources.fresh": {"en": "fresh", "zh": "最新"},
    "sources.stale": {"en": "stale", "zh": "过期"},
    "sources.waiting": {"en": "waiting", "zh": "等待中"},
    "notfound.title": {"en": "Not found", "zh": "未找到"},
    "notfound.body": {"en": "Nothing here: the address names no page, chain, service or trace.", "zh": "此地址没有对应的页面、链路、服务或调用链。"},
    "notfound.back": {"en": "Back to the wall", "zh": "返回大屏"},
}


def t(key: str, lang: str = "en", **values) -> str:
    """Translate ``key`` into ``lang`` (falling back to English) and fill in ``values``."""
    return template(key, lang).format(**values)


def template(key: str, lang: str = "en") -> str:
    """The text of ``key`` in ``lang`` with its ``{placeholders}`` left for the browser to fill in."""
    entry = CATALOG[key]
    return entry.get(lang, entry["en"])


def pick_lang(requested: str | None, default: str) -> str:
    """Return the requested language when supported, else the default."""
    return requested if requested in ("en", "zh") else default
