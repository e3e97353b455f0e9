"""Every piece of user-facing text, in English and Simplified Chinese."""
from __future__ import annotations

from dashboard import urlinput

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
    "wall.stale_since": {"en": "stale since {time}", "zh": "自 {time} 起数据过期"},
    "wall.no_chains": {"en": "No business chains yet: waiting for the first poll.", "zh": "暂无业务链路：等待首次采集。"},
    "wall.age": {"en": "{minutes} min", "zh": "{minutes} 分钟"},
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
    "login.title": {"en": "Sign in", "zh": "登录"},
    "login.user": {"en": "User name", "zh": "用户名"},
    "login.password": {"en": "Password", "zh": "密码"},
    "login.submit": {"en": "Sign in", "zh": "登录"},
    "login.failed": {"en": "Wrong user name or password.", "zh": "用户名或密码错误。"},
    "auth.required": {"en": "Sign-in required: open this page through the single sign-on proxy.",
                      "zh": "需要登录：请通过单点登录代理访问此页面。"},
    "auth.display_invalid": {"en": "This display's token is not valid (revoked or mistyped); ask an administrator for a new one.",
                             "zh": "此大屏的令牌无效（已吊销或输入错误）；请向管理员申请新令牌。"},
    "auth.forbidden": {"en": "Your role does not allow this.", "zh": "您的角色无权执行此操作。"},
    "auth.loopback_only": {"en": "Without an auth mode configured, opscenter serves this machine only.",
                           "zh": "未配置认证方式时，opscenter 仅为本机提供服务。"},
    "auth.cross_site": {"en": "Cross-site request refused.", "zh": "已拒绝跨站请求。"},
}


def t(key: str, lang: str = "en", **values) -> str:
    """Translate ``key`` into ``lang`` (falling back to English) and fill in ``values``."""
    entry = CATALOG[key]
    return entry.get(lang, entry["en"]).format(**values)


def pick_lang(requested: str | None, default: str) -> str:
    """Return the requested language when it passes ``urlinput.clean``, else the default."""
    try:
        return urlinput.clean("lang", requested, default)
    except urlinput.UrlInputError:
        return default
