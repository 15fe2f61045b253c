"""English and Chinese UI text; the browser's language picks one (gr.I18n translates in the page), or the page
address's `?lang=zh` / `?lang=en`."""

from __future__ import annotations

import gradio as gr
from starlette.requests import Request

from ui.messages import asked_language

EN = {
    "app.title": "# DeepSeek Knowledge Assistant\nAsk your documents, review contracts, generate code. "
                 "Everything you upload is private to this browser session and deleted when you close or reload the page.",
    "tab.knowledge": "Knowledge",
    "tab.chat": "Chat",
    "tab.contracts": "Contract review",
    "tab.code": "Code",
    "knowledge.intro": "Upload PDFs (scans are OCR'd), images, Word, text or Markdown files. Chat stays "
                       "disabled while they are indexed.",
    "knowledge.upload": "Documents",
    "knowledge.add": "Add to my knowledge base",
    "knowledge.table": "My documents",
    "knowledge.pick": "Document",
    "knowledge.delete": "Delete",
    "knowledge.clear": "Clear all",
    "chat.title": "Answers from your documents",
    "chat.question": "Your question",
    "chat.placeholder": "e.g. What is the termination notice period? (Enter to send, Shift+Enter for a new line)",
    "chat.send": "Ask",
    "chat.stop": "Stop",
    "chat.clear": "New chat",
    "chat.examples": "Examples",
    "chat.sources_title": "### Sources\nThe passages the answer may cite, with file and page.",
    "contracts.intro": "Every passage of the contract is scanned for 22 clause types (20 from CUAD, with "
                       "Confidentiality and Dispute Resolution); a type found in "
                       "several places is quoted in up to three, the best match first. Rules rate the risk, the "
                       "model explains risky clauses. \"Possibly\": no rule matched, but a passage is like clauses "
                       "CUAD's annotators marked; check it. Not legal advice.",
    "contracts.upload": "Contract (or pick one of your documents)",
    "contracts.pick": "Your documents",
    "contracts.explain": "Explain risky clauses with the model (slower)",
    "contracts.review": "Review",
    "contracts.findings": "Findings",
    "contracts.download_md": "Download report (Markdown)",
    "contracts.download_json": "Download report (JSON)",
    "code.prompt": "What should the code do?",
    "code.tests": "Tests (asserts or test_* functions; optional)",
    "code.generate_tests": "Let the model write tests when none are given",
    "code.generate": "Generate",
    "code.code": "Generated code (editable)",
    "code.run": "Run tests",
    "code.reasoning": "Reasoning",
    "metrics.title": "Metrics",
    "metrics.refresh": "Refresh",
}

ZH = {
    "app.title": "# DeepSeek 知识助手\n向你的文档提问、审阅合同、生成代码。你上传的一切仅在本浏览器会话中可见，关闭或刷新页面即删除。",
    "tab.knowledge": "知识库",
    "tab.chat": "问答",
    "tab.contracts": "合同审阅",
    "tab.code": "代码",
    "knowledge.intro": "上传 PDF（扫描件会做 OCR）、图片、Word、文本或 Markdown 文件。索引完成前问答不可用。",
    "knowledge.upload": "文档",
    "knowledge.add": "加入我的知识库",
    "knowledge.table": "我的文档",
    "knowledge.pick": "文档",
    "knowledge.delete": "删除",
    "knowledge.clear": "全部清除",
    "chat.title": "基于你的文档的回答",
    "chat.question": "你的问题",
    "chat.placeholder": "例如：提前多少天书面通知可以终止合同？（Enter 发送，Shift+Enter 换行）",
    "chat.send": "提问",
    "chat.stop": "停止",
    "chat.clear": "新对话",
    "chat.examples": "示例",
    "chat.sources_title": "### 来源\n回答可引用的段落（文件与页码）。",
    "contracts.intro": "逐段扫描合同中的 22 种条款类型（CUAD 的 20 种，另加保密和争议解决）；同一类型出现在多处时最多引用三处，最匹配的在前。"
                       "规则评定风险，模型解释高风险条款。“可能”表示没有规则匹配，"
                       "但某段文字与 CUAD 标注的条款相似，请核对。不构成法律意见。",
    "contracts.upload": "合同（或选择你已上传的文档）",
    "contracts.pick": "你的文档",
    "contracts.explain": "由模型解释高风险条款（较慢）",
    "contracts.review": "审阅",
    "contracts.findings": "审阅结果",
    "contracts.download_md": "下载报告（Markdown）",
    "contracts.download_json": "下载报告（JSON）",
    "code.prompt": "代码要做什么？",
    "code.tests": "测试（assert 或 test_* 函数；可选）",
    "code.generate_tests": "未提供测试时由模型编写测试",
    "code.generate": "生成",
    "code.code": "生成的代码（可编辑）",
    "code.run": "运行测试",
    "code.reasoning": "推理过程",
    "metrics.title": "运行指标",
    "metrics.refresh": "刷新",
}

I18N = gr.I18n(en=EN, zh=ZH)


def t(key: str):
    """A translation key the page resolves in the browser's language (English if it has no translation)."""
    if key not in EN:
        raise KeyError(f"no UI text for {key!r}")
    return I18N(key)


# Gradio picks the page's language from navigator.language when its scripts start: a `?lang=` page is served
# with a first script that makes the browser say that language (the server's own text reads the same parameter).
_BROWSER_LOCALE = {"zh": "zh-CN", "en": "en-US"}
_SAY_LOCALE = ('<script>Object.defineProperty(navigator,"languages",{{get:()=>["{0}"]}});'
               'Object.defineProperty(navigator,"language",{{get:()=>"{0}"}});</script>')


def locale_script(request: Request) -> str:
    """The first script of a `?lang=` page ("" without one)."""
    lang = asked_language(request.query_params.get("lang"))
    return _SAY_LOCALE.format(_BROWSER_LOCALE[lang]) if lang else ""
