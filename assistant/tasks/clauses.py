"""The clause taxonomy (CUAD categories) as data: what to look for in English and Chinese, and how risky it is."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

Risk = str  # "high" | "medium" | "low" | "none"


@dataclass(frozen=True)
class ClauseType:
    """One CUAD category.

    Attributes:
        name: the CUAD category name.
        description: what the clause is, for the model and the report.
        patterns: regular expressions (English and Chinese); any match marks a candidate sentence.
        risk_found: severity when the clause is present.
        risk_missing: severity when it is absent ("none": absence is fine).
        question: what to ask a lawyer about it.
        excludes: a sentence matching one of these is not this clause (e.g. "non-exclusive").
        name_zh: the category's name in Chinese.
        question_zh: the lawyer question in Chinese (for Chinese contracts).
        cuad: a CUAD category (False: ours, CUAD annotates no such clause, so no evaluation or example covers it).
    """

    name: str
    description: str
    patterns: tuple[str, ...]
    risk_found: Risk
    risk_missing: Risk
    question: str
    excludes: tuple[str, ...] = ()
    name_zh: str = ""
    question_zh: str = ""
    cuad: bool = True

    def question_in(self, lang: str) -> str:
        """The lawyer question in the contract's language ("zh" or English)."""
        return self.question_zh if lang == "zh" and self.question_zh else self.question

    def compiled(self) -> list[re.Pattern]:
        return [re.compile(p, re.IGNORECASE) for p in self.patterns]

    def compiled_excludes(self) -> list[re.Pattern]:
        return [re.compile(p, re.IGNORECASE) for p in self.excludes]


_MONTH_NAME = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH = rf"(?:{_MONTH_NAME}|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.)"  # a name or its abbreviation
_DEFINED = r"\((?:the |hereinafter |collectively )*[\"“][^\"”]{2,40}[\"”]\)"  # ("Company"), (the "Consultant")

# A confidentiality clause's "不得向任何第三方披露、转让或者许可使用上述信息" passes on secrets, not the contract or a
# licence (a walkthrough's review listed the 保密 article as Anti-Assignment and License Grant)
_SECRETS_PASSED_ON = r"(?:披露|泄露|透露)[、，,]?.{0,4}(?:转让|许可|提供)|(?:商业秘密|保密信息|机密信息)"


CLAUSE_TYPES: tuple[ClauseType, ...] = (
    ClauseType("Parties", "the parties who signed the contract",
               (r"\bby and (?:between|among)\b", r"\bbetween\b.{3,200}\band\b.{3,200}\((?:the )?[\"“]?\w+", r"hereinafter",
                r"\(each,? a [\"“]?party",
                r"\bentered into by\b.{3,200}\band\b", rf"{_DEFINED}.{{0,300}}?\band\b.{{3,300}}?{_DEFINED}",
                rf"\bbetween\s+(?:(?-i:[A-Z])[\w&.,'’-]*\s+){{1,10}}[^()]{{0,40}}{_DEFINED}", 
                # a party named after a colon ("甲方：…", "乙方（服务方）：…") or defined ("以下简称甲方"): a sentence
                # that only mentions 甲方 and 乙方 ("乙方为甲方提供…") is what the contract says they do
                r"(?:甲方|乙方)\s*(?:[（(][^）)]{0,12}[）)])?\s*[:：]", r"以下简称\s*[“\"「]?(?:甲方|乙方)",
                r"合同双方|双方当事人"),
               "none", "medium", "Are all contracting entities named with their full legal names?"),
    ClauseType("Agreement Date", "the date the contract was signed",
               (r"\b(?:dated|made and entered into|entered into)\b.{0,60}\b(?:as of|on|this)\b", r"\b(?:made|dated) as of\b", r"\b(?:\d{1,2}(?:st|nd|rd|th)?|this|the \w+) day of\b",
                r"\bthis (?:[\w-]+ ){0,6}agreement\b.{0,100}\b(?:is|was) (?:made|entered|executed|dated)\b",
                rf"^[A-Z][A-Z ,&-]{{6,}}AGREEMENT\s+{_MONTH_NAME} \d{{1,2}}, \d{{4}}\b",
                rf"\bDate:\s*(?:{_MONTH_NAME} \d{{1,2}}, \d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})", r"\b\d{1,2}/\d{1,2}/\d{2,4}\b.{0,100}\bDate\b",
                rf"\bagreement\b.{{0,60}}\b(?:made|dated|entered into|executed)\s+(?:as of\s+|on\s+)?_?{_MONTH}\s*\d",
                r"^\W*this (?:[\w-]+ ){0,6}agreement\b.{0,80}\b(?:shall be|is) effective as of\b",
                r"签订日期|签署日期|签订于|于.{0,12}年.{0,6}月.{0,6}日.{0,10}签",
                # the signature block's "日期：2023年12月20日" (not a term's "期限…日期")
                r"(?<!终止)(?<!到期)(?<!生效)(?<!截止)日期\s*[:：]\s*\d{4}\s*年"),
               "none", "low", "Is the signing date stated and consistent with the effective date?",
               excludes=(r"dated as of .{0,40}\((?:the )?[\"“][\w\s-]*agreement[\"”]\)",)),
    ClauseType("Effective Date", "the date the contract takes effect",
               (r"effective date", r"shall (?:become|be) effective", r"commencement date", r"\b(?:contract|agreement) start\b",
                r"\(\s*(?:the\s*)?[\"“]effective date[\"”]\s*\)", r"\b(?:as of|dated|on)\b.{0,60}\(\s*(?:the\s*)?[\"“]effective date",
                r"(?<!term of )\b(?:this|the) agreement (?:shall|will) (?:begin|commence|become effective|take effect) (?:up)?on\b",
                rf"\b(?:commence|begin)s? (?:up)?on\s+_?{_MONTH}\s*\d", r"\b(?:shall|will) (?:begin|commence) on the date (?:hereof|of this agreement)\b",
                rf"\bentered into\s+(?:effective\s+)?as of\s+_?(?:{_MONTH}\s*\d|the \d|\d)", r"生效",
                r"(?<!保密)(?:期限|有效期).{0,12}自\s*\d{4}\s*年.{0,8}日起"),
               "none", "low", "From when do the obligations start?",
               excludes=(r"effective date of (?:any|such|the|each) (?:such )?(?:change|increase|decrease|amendment|price|rate|fee)",
                         r"\b(?:price|fee|rate)s? (?:change|increase|decrease|adjustment)s?\b")),
    ClauseType("Expiration Date", "when the initial term ends",
               (r"(?:shall|will) (?:expire|terminate|continue)\b.{0,80}\b(?:on|until|for)\b", r"(?:shall|will) expire\b",
                rf"(?:shall|will) (?:terminate|expire) on (?:{_MONTH_NAME}|the)\b", r"\bcontinue perpetually\b",
                r"\binitial term\b", r"(?<!during )(?<!after )(?<!throughout )\bthe term of (?:this|the) agreement (?:shall|will|is)\b",
                r"(?:remain|continue) in (?:full force and )?effect for (?:a |an |the )?(?:initial )?(?:period|term) of",
                r"(?:agreement|term) (?:shall|will) (?:be|continue|remain)(?: in (?:full force and )?effect)? for a (?:period|term) of",
                r"(?:remain|continue) in (?:full force and )?effect (?:until|through)", r"\bshall extend until\b",
                r"\b(?:agreement|term)\b.{0,80}(?:continue|remain in (?:full force and )?effect) in perpetuity",
                rf"\b(?:ends?|ending|expires?|expiring|terminating|effective until)\s+(?:at\s+|on\s+)?_?{_MONTH}\s*\d",
                r"\b(?:end|expire|terminate)s? on the (?:\w+ )?anniversary\b",
                r"(?:remain|continue) in (?:full force and )?effect for (?:\w+ ){0,2}(?:\(\d+\) )?(?:years?|months?)\b", r"\bcontinue through\b",
                r"\b(?:be|remain|continue|stay) in (?:full )?(?:force|effect)(?: and effect)? (?:for|until|through)\b",
                r"\b(?:shall|will) be effective (?:until|through)\b", r"\b(?:commence|begin)s?\b.{0,80}\band (?:shall |will )?continue (?:for|until|through)\b",
                r"\b(?:continue|continuing|endure|enduring|remain|remaining)\b.{0,30}\b(?:indefinitely|in perpetuity|perpetually)\b",
                r"\bthe term (?:of this agreement )?(?:shall|will) be (?:\w+ )?(?:\(\d+\) )?(?:years?|months?)\b",
                r"有效期|期满|届满|终止日期",
                # "服务期限为一年": a term, not a renewal, notice or warranty period
                r"(?<!续约)(?<!续期)(?<!通知)(?<!保证)(?<!保修)(?<!保密)期限\s*[:：]?\s*(?:为|自|是)",
                # "自2025年3月1日起至2026年2月28日止": the day it ends
                r"至\s*\d{4}\s*年.{0,8}日\s*止"),
               "none", "low", "When does the contract end, and what survives its end?"),
    ClauseType("Renewal Term", "automatic renewal after the initial term",
               (r"automatic(?:ally)? renew", r"renewal term", r"\brenew(?:ed|s)? for (?:successive|additional)",
                r"successive .{0,30}(?:year|month|annual)", r"automatically (?:be )?(?:extended|renewed)", r"\brenewable for\b", r"\brenew (?:this|the) agreement\b",
                r"\b(?:month|year)[- ]to[- ](?:month|year)\b",
                r"\bextend(?:ed|s)? automatically\b", r"\bautomatic (?:[\w-]+ ){0,3}extensions?\b", r"\bright (?:to renew|of renewal)\b",
                r"\bmay be renewed\b", r"\bfor (?:an )?additional (?:[\w()-]+ ){0,3}(?:years?|months?|terms?|periods?)\b.{0,60}\b(?:renew|extend)|\b(?:renew|extend)\w*\b.{0,60}\bfor (?:an )?additional (?:[\w()-]+ ){0,3}(?:years?|months?|terms?|periods?)\b",
                r"自动(?:续期|续约|延续|顺延)", r"续期|续约"),
               "medium", "none", "Can we stop the automatic renewal, and by when must we say so?"),
    ClauseType("Notice Period to Terminate Renewal", "notice needed to stop a renewal",
               (r"(?:notice|notify).{0,100}(?:prior to|before) the (?:end|expiration|expiry) of",
                r"days.{0,40}(?:prior|before).{0,60}(?:renewal|expiration|end of the (?:then[- ]current )?term)",
                r"non-?renewal", r"\bnot to renew\b", r"days (?:prior to|before) (?:the )?(?:end|expiration|expiry|anniversary) of",
                r"notification of termination.{0,80}days (?:prior|before)", r"(?:expiration|expiry) of (?:its|the|this) (?:initial )?term or any renewal term",
                r"renewal term upon .{0,40}days",
                r"\bnotice\b.{0,80}\b(?:before|prior to)\b.{0,30}\b(?:successive|renewal|additional|extension)\b",
                r"\b(?:month|year)[- ]to[- ](?:month|year)\b.{0,200}\bnotice\b",
                r"(?:at|upon|following) the (?:expiry|expiration|end) of (?:this agreement|the (?:initial|renewal) term).{0,600}days'? (?:prior )?(?:written )?notice",
                r"(?:following|after) the (?:expiration of the )?initial term.{0,80}terminate.{0,80}notice",
                r"\bnotice\b.{0,80}\b(?:cancel|terminate)\b.{0,60}\b(?:at|upon) the (?:end|expiration|expiry) of the (?:initial|then[- ]current|renewal) term\b",
                r"(?:期满|到期)前.{0,20}通知", r"不再续",
                # "合同期满前六十日内，如任何一方未以书面形式提出异议，本合同自动续期": objecting in writing stops it
                r"(?:期满|到期)前.{0,20}(?:日|天)内?.{0,30}(?:书面|异议)"),
               "low", "none", "How many days before the renewal date must notice be given, and how?"),
    ClauseType("Governing Law", "which law governs the contract",
               (r"governed\b.{0,80}\bby.{0,100}laws? (?:of|thereof|in force)",
                r"\bgoverned (?:in accordance with|under)\b.{0,40}\blaws?\b", r"governed by and construed", r"governing law", r"construed in accordance with.{0,40}laws?", r"\blaws? of\b.{0,60}\bshall govern\b",
                r"适用.{0,20}法律|管辖法律|受.{0,20}法律管辖|依据.{0,10}法律.{0,10}解释"),
               "none", "medium", "Is the governing law one we can live with, and is it the law of the place disputes are decided?"),
    ClauseType("Termination for Convenience", "termination without cause",
               (r"terminat(?:e|able).{0,80}(?:for (?:any reason|convenience)|without cause|for (?:non-?|no )cause|at any time)",
                r"\bwishing to terminate\b",
                r"for convenience", r"terminat(?:e|able).{0,80}upon .{0,30}(?:days|weeks|months)'? (?:prior )?(?:written )?notice",
                r"(?:upon|with|by giving) .{0,30}(?:days|weeks|months)'? (?:prior )?(?:written )?notice.{0,60}terminat(?:e|able)",
                r"terminat(?:e|able)\b.{0,60}\bby giving .{0,30}(?:days|weeks|months)'? (?:prior )?(?:written )?notice",
                r"(?:任何一方|甲方|乙方).{0,20}提前.{0,20}通知.{0,20}(?:终止|解除)",
                r"提前.{0,10}(?:日|天|个月).{0,10}(?:书面)?通知.{0,20}(?:终止|解除)", r"无需.{0,6}理由.{0,20}(?:终止|解除)",
                # "任何一方欲提前终止本合同，须提前三十天书面通知对方": the termination first, its notice after
                r"(?:任何一方|甲方|乙方|双方).{0,20}(?:终止|解除).{0,30}提前.{0,10}(?:日|天|个月).{0,10}(?:书面)?通知"),
               "medium", "none", "Who may end the contract without cause, on what notice, and what is owed then?",
               excludes=(r"force majeure", r"\b(?:expiration|expiry|renewal term)\b", r"\bbreach", r"\b(?:death|disability|incapacity)\b",
                         r"for (?:the )?convenience (?:of reference )?only", r"change (?:of|in) (?:control|ownership)|ownership change",
                         r"不可抗力")),
    ClauseType("Cap on Liability", "a limit on damages",
               (r"(?:aggregate|total|maximum|entire|cumulative) liability", r"(?:in no event|under no circumstances)\b.{0,80}liab",
                r"(?:sole|exclusive) (?:liability|remedy).{0,200}(?:limited to|shall not exceed)",
                r"liability.{0,80}(?:shall not exceed|limited to|capped)", r"limitation of liability",
                r"\bliable\b.{0,80}\b(?:indirect|incidental|consequential|special|punitive|exemplary)\b.{0,40}damages",
                r"(?:shall|will) not be liable to (?:the|any|either)\b.{0,20}(?:party|company|licensee|licensor|customer|supplier|other)",
                r"\b(?:have|has|bear) no liability\b.{0,160}\b(?:indirect|incidental|consequential|special|punitive|exemplary)\b",
                r"\bliability\b.{0,160}\b(?:is|be|are) limited to\b", r"\bcumulative maximum\b", r"\bentire (?:obligation|liability)\b",
                r"\b(?:sole|exclusive) (?:and exclusive )?remedy\b", r"\bshall in any event have any liability\b",
                r"\b(?:damages|liability|liabilities)\b.{0,120}\bshall not exceed\b",
                r"\b(?:claim|action)\b.{0,160}\bmust be (?:commenced|brought|filed)\b.{0,20}\bwithin\b",
                r"\bmay bring (?:a|any) (?:claim|action)\b.{0,200}\bmore than\b",
                r"\bliable\b.{0,160}\b(?:indirect|incidental|consequential|special|punitive|exemplary)\b.{0,60}\b(?:damages?|loss(?:es)?)\b",
                r"\bentitled to recover\b.{0,80}\b(?:indirect|incidental|consequential|special|punitive|exemplary)\b",
                r"\bwaive\b.{0,60}\bclaims?\b.{0,120}\b(?:indirect|incidental|consequential|special|punitive|exemplary)\b",
                r"\blimited to,? and (?:shall|will) not exceed\b", r"\bliable\b.{0,200}\bin excess of\b",
                r"\b(?:no|any) (?:claim|action)\b.{0,160}\bmay be brought\b.{0,80}\bmore than\b",
                r"\bremed(?:y|ies)\b.{0,60}\b(?:shall be|is|are) limited to\b", r"\bsole and exclusive (?:obligation|liability)\b",
                r"(?:赔偿|责任).{0,30}(?:总额|上限|最高).{0,20}不(?:超过|得超过)", r"责任限制|赔偿限额"),
               "low", "high", "Is the liability cap adequate and mutual, and what is excluded from it?"),
    ClauseType("Uncapped Liability", "liability with no limit",
               (r"(?:unlimited|uncapped) liability",
                r"(?:limitation|limits?|cap)s? .{0,60}shall not apply",
                r"exclu(?:ded|sions?) from .{0,20}limitation",
                r"except (?:with respect to|for) .{0,240}(?:in no event|under no circumstances) shall", r"notwithstanding.{0,80}limitation of liability",
                r"\bexcept\b.{0,300}\b(?:in no event|under no circumstances)\b.{0,30}\b(?:shall|will)\b",
                r"\bexcept\b.{0,300}\b(?:aggregate|total|maximum|cumulative) (?:total )?liability\b",
                r"\bexcept for claims under\b",
                r"\bexcept\b.{0,300}\b(?:neither|no) party (?:shall|will) be (?:liable|entitled)\b",
                r"\blimitations? of liability\b.{0,120}\bshall not (?:be available|apply)\b",
                # said outright: "liability for indemnification shall be unlimited" / "shall not be limited"
                r"\bliabilit(?:y|ies)\b[^.;]{0,150}\b(?:shall|will|is|are)\s+(?:be\s+)?(?:unlimited|uncapped)\b",
                r"\bliabilit(?:y|ies)\b[^.;]{0,150}\b(?:shall|will) not be (?:limited|capped)\b",
                r"(?:责任|赔偿|损失).{0,30}不受.{0,20}(?:限额|上限|限制)", r"不受.{0,10}(?:责任|赔偿)?(?:限额|上限)",
                r"无限(?:连带)?责任|全部损失",
                r"(?:责任|赔偿)(?:限制|限额|上限)[^。；]{0,10}不适用",  # "上述责任限制不适用于…": the cap's carve-out
                # a cap "除故意或者重大过失外": what it excepts has no cap
                r"除.{0,20}(?:故意|重大过失|欺诈).{0,20}[外以]"),
               "high", "none", "Which liabilities are unlimited, and can they be capped or insured?"),
    ClauseType("Non-Compete", "a restriction on competing",
               (r"non-?compet\w*\b(?!\s*:)", r"(?:shall|will) not.{0,160}\b(?:compete|competitive|competing|competitor)",
                r"competing (?:product|business|service)",
                r"\bnot to compete\b", r"neither party shall .{0,80}\bcompetitor",
                r"\b(?:agrees?|covenants?) not to\b.{0,200}\b(?:compet\w*|engage in|participate in)\b",
                r"(?:shall|will) not,? directly or indirectly,? (?:\w+,? ){0,6}(?:engage|participate|operate|own|offer|develop|market|sell)\b",
                r"\bnot to (?:sell|engage|participate)\b.{0,120}\bcompetitors?\b",
                r"\bproducts?\b.{0,40}\b(?:that|which) (?:are |is )?(?:compete|competes|competitive with)\b",
                r"\b(?:not|no)\b.{0,200}\bcompetitors? of\b", r"\bagrees? not to (?:endorse|promote)\b",
                r"竞业", r"不得.{0,30}(?:从事|经营).{0,30}(?:竞争|相同|类似)"),
               "high", "none", "How long, where and for which products does the non-compete apply?"),
    ClauseType("Exclusivity", "an exclusive relationship",
               (r"(?<!non-)(?<!non )(?<!non‐)(?<!non- )(?<!non‐ )\bexclusive(?:ly)?\b(?! of)(?! property)",
                r"sole (?:and exclusive )?(?:supplier|distributor|provider|source)",
                r"(?<!non-)(?<!non )(?<!non‐ )\bexclusive (?:right|partner|provider|distributor|supplier|reseller|licen[cs]e|basis)",
                r"not (?:to )?enter into any (?:other|similar) (?:[\w-]+ )?agreement", r"独家|排他"),
               "medium", "none", "What exactly is exclusive, for how long, and with what minimum commitments?",
               excludes=(r"exclusive (?:jurisdiction|venue|remedy|remedies|liability|forum)", r"exclusively (?:to|for) the benefit",
                         r"\bcourts?\b.{0,60}\bexclusive|\bexclusive(?:ly)?\b.{0,60}\bcourts?\b",
                         r"exclusive right,? (?:but not the obligation,? )?to (?:prosecute|enforce|defend|bring|sue|settle|control)",
                         r"(?:relied|rely|relies|belongs?|owned) exclusively", r"(?:as|except as) exclusively",
                         r"exclusive (?:owner|ownership)\b", r"inure exclusively to")),
    ClauseType("Anti-Assignment", "consent needed to assign the contract",
               (r"(?:shall|may|will) not.{0,20}(?:assign|transfer)", r"(?:shall|may|will) not,? without .{0,60}(?:consent|approval).{0,10}\bassign",
                r"\b(?:neither|no) party (?:shall|may|will)\b.{0,20}\b(?:assign|transfer)", r"(?:shall|may|will) not (?:subcontract|delegate)\b",
                r"\bpersonal to\b", r"\bassignment\b.{0,150}\b(?:written )?consent\b", r"assign.{0,100}without.{0,30}(?:consent|approval)",
                r"terminate automatically in the event of (?:its )?assignment",
                r"no assignment", r"\bmay\b.{0,40}\bassign(?: or \w+)? (?:this agreement|its rights)",
                r"(?:purported|attempted) assignment.{0,150}(?:void|null)",
                r"\b(?:assignment|transfer|sale|conveyance|disposition)\b.{0,160}\b(?:shall be|will be|is|be) (?:null and void|void(?:able)?|of no (?:force or )?effect)\b",
                r"\b(?:may|shall|will) not (?:\w+ ){0,2}sublicense\b|\bno right to sublicense\b",
                r"\b(?:may (?:be )?assign(?:ed)?|right to assign)\b.{0,160}\b(?:upon|with|by) (?:prior )?(?:written )?notice\b", r"不得.{0,10}(?:转让|转移)", r"未经.{0,20}同意.{0,20}转让"),
               "low", "none", "Can we assign the contract to an affiliate or a buyer without consent?",
               excludes=(r"\bmay freely assign\b", _SECRETS_PASSED_ON)),
    ClauseType("Change of Control", "rights triggered by a merger or change of ownership",
               (r"change (?:of|in) control", r"change in (?:the )?(?:management or )?(?:ownership|control)", r"\b(?:material )?ownership change",
                r"(?:controlling interest|majority of the voting)", r"\bacquisition of (?:a |the )?(?:majority|all or substantially all)\b",
                r"\b(?:reorganization|merger|consolidation)\b.{0,80}\b(?:sale of all or substantially all|assign)", r"控制权.{0,10}(?:变更|变化|转移)", r"(?:股权|所有权|管理层).{0,10}(?:变更|重大变化)", r"并购|兼并"),
               "medium", "none", "What happens to this contract if either party is acquired?",
               excludes=(r"change of control.{0,60}shall not be (?:considered|deemed)",)),
    ClauseType("License Grant", "a licence to use IP",
               (r"grants?\b.{0,200}licen[cs]e", r"grants? (?:to \w+ )?the (?:non-exclusive |exclusive )?right to use",
                r"\bshall have the (?:non-?exclusive |exclusive |limited )?right to use\b", r"\blicen[cs]e to (?:use|make|sell|reproduce|distribute)",
                r"\bgrants?\b.{0,100}\bright to (?:use|resell|sell|market|distribute|promote|reproduce|display|make|advertise|exploit)",
                r"\bgrant\b.{0,100}\bthe use of\b", r"\bhereby grants?\b.{0,120}\b(?:right|licen[cs]e|permission)",
                r"\bappoints?\b.{0,100}\b(?:distributor|reseller|dealer|sales agent|licensee)",
                r"(?:授予|许可).{0,20}(?:使用|许可)", r"许可使用", r"授权.{0,20}(?:使用|销售|经销|分销)",
                r"(?:指定|委任).{0,20}(?:经销商|代理商|分销商)"),
               "low", "none", "Is the licence scope (field, territory, term, sublicensing) enough for our use?",
               excludes=(_SECRETS_PASSED_ON,)),
    ClauseType("IP Ownership Assignment", "transfer of IP ownership",
               (r"\bassign(?:s|ed)?\b.{0,80}(?:right,? title,? and interest|intellectual property)",
                r"works?[- ](?:made[- ])?for[- ]hire", r"\bhereby (?:irrevocably )?assigns?\b", r"\b(?:transfers?|conveys?) and assigns?\b",
                r"(?:copyrights?|intellectual property).{0,80}shall (?:become|be) the (?:sole )?(?:rights?|property) of",
                r"intellectual property.{0,80}(?:shall|will) (?:vest|belong|be owned)",
                r"\b(?:shall|will) (?:\w+ )?be owned (?:exclusively |solely )?by\b", r"\b(?:hereby|deemed) (?:\w+ ){0,3}assigned to\b",
                r"\btransfer (?:such|all|any|its) (?:\w+ )?right,? title,? (?:and|or) interest\b",
                r"\bassign(?:s|ed)? to \w+,? (?:\w+ ){0,3}any rights?\b", r"\bexecute\b.{0,120}\bassignments?\b",
                r"知识产权.{0,30}(?:归|属于)", r"所有权.{0,10}归", r"(?:知识产权|著作权|专利权?).{0,30}转让(?:给|予)"),
               "medium", "none", "Which IP do we give up or receive, and is pre-existing IP carved out?"),
    ClauseType("Audit Rights", "a right to audit books or records",
               (r"\baudit(?!ors?\b)", r"(?:inspect|examine).{0,60}(?:books|records)", r"records available for (?:review|inspection)",
                r"\b(?:available|open) for (?:inspection|review|examination)\b", r"\baccess\b.{0,80}\b(?:books|records)\b",
                r"\bright to (?:\w+ )?(?:inspect|examine)\b", r"\bpermit\b.{0,80}\b(?:inspect|examine)\b",
                r"\b(?:books|records)\b.{0,120}\b(?:available|open)\b.{0,40}\b(?:inspection|review|examination)\b",
                r"\bpermit\b.{0,40}\bexamination\b",
                r"\breview\b.{0,40}\b(?:books|records)\b", r"\brecords\b.{0,80}\b(?:examined|inspected|reviewed|made accessible)\b",
                r"\bmake available\b.{0,120}\b(?:books|records)\b", r"\binspections?\b.{0,80}\b(?:conducted|expense|cost)\b", r"\bauditors?\b.{0,40}\breview\b", r"审计", r"查阅.{0,20}(?:账簿|记录|账目)"),
               "low", "none", "How often, on what notice and at whose cost can audits happen?"),
    ClauseType("Insurance", "insurance the parties must carry",
               (r"\binsurance\b", r"\binsureds?\b", r"(?:obtain|maintain|procure|carry)\b.{0,80}\binsurance",
                r"(?:general|product|professional|public) liability insurance", r"additional (?:named )?insureds?",
                r"certificates? of insurance", r"保险", r"投保", r"(?:购买|维持|办理).{0,20}(?:责任)?保险"),
               "none", "low", "Are the required insurance types and amounts stated and realistic?",
               excludes=(r"\b(?:freight|carriage|shipping)\b.{0,40}\binsurance\b|\binsurance\b.{0,40}\b(?:freight|carriage|shipping)\b",)),
    ClauseType("Warranty Duration", "how long a warranty lasts",
               (r"warrant(?:y|ies).{0,100}(?:period|for a period of|\d+\s*(?:months?|years?|days?))",
                r"(?:period|term) of .{0,30}warranty", r"\d+\)?\s*(?:months?|years?|days?)\b.{0,100}\bwarrant(?:y|ies|s)\b", r"breach of warranty.{0,160}within .{0,20}days",
                r"within \(?\d+\)? days (?:from|of|after) (?:the )?(?:date of )?(?:shipment|delivery)",
                r"\d+\)? days\b.{0,60}\b(?:upon|after|from|of) (?:the )?(?:receipt|delivery|shipment)\b.{0,60}\b(?:inspect|test|reject)",
                r"\bwarrant\w*\b.{0,80}\bfor (?:a period of )?(?:\[\s*\*\s*\]|\w+ \(\d+\)|\d+) (?:months?|years?|days?)\b",
                r"\bwithin\b.{0,30}\b(?:days?|months?)\b.{0,40}\b(?:receipt|delivery|shipment)\b.{0,120}\b(?:defect|non-?conform|shortage)",
                r"\bdefect\w*\b.{0,120}\bwithin\b.{0,30}\b(?:days?|months?)\b.{0,20}\b(?:of|from|after) (?:the |their |its )?(?:receipt|delivery|shipment|discovery)\b",
                r"保修期|质保期|质量保证期|保证期"),
               "none", "low", "How long is the warranty, from when, and what are the remedies?"),
    ClauseType("Liquidated Damages", "a fixed sum payable on breach",
               (r"liquidated damages", r"(?:penalty|penalties) of", r"(?:per day|for each day) of delay", r"\b(?:cancellation|termination|break-?up) fee\b",
                r"违约金|滞纳金"),
               "medium", "none", "Is the fixed sum a fair pre-estimate of loss, and is it the only remedy?"),
    # Not CUAD categories, but in nearly every commercial contract, and what a reader of one looks for first
    ClauseType("Confidentiality", "a duty to keep the other party's information secret",
               (r"\bconfidential information\b", r"\bnon-?disclosure\b", r"\bin (?:strict(?:est)? )?confidence\b",
                r"\b(?:keep|hold|maintain|treat)\b.{0,80}\b(?:confidential|secret)\b",
                r"(?<!breach of )(?<!breaches of )\bconfidentiality\b",  # a liability cap's carve-out is not one
                r"\b(?:shall|will|must|agrees? to) not (?:\w+ ){0,3}disclose\b", r"\bnot to disclose\b",
                r"保密", r"商业秘密", r"不得.{0,20}(?:泄露|披露|透露)"),
               "low", "low", "What counts as confidential, for how long after the contract ends, and with what exceptions?",
               excludes=(r"\bconfidential treatment\b.{0,80}\b(?:securities|commission|omitted|redacted)\b",
                         r"\bconfidential (?:portions?|treatment request)\b"),
               cuad=False),
    ClauseType("Dispute Resolution", "where and how disputes are decided: courts, venue or arbitration",
               (r"\barbitrat(?:ion|or|ors|ed)\b", r"\bsubmit\w*\b.{0,40}\bjurisdiction\b",
                r"\b(?:exclusive|non-exclusive|personal) jurisdiction\b", r"\bjurisdiction of the\b.{0,60}\bcourts?\b",
                r"\b(?:exclusive|proper) venue\b|\bvenue (?:for|of) (?:any|all)\b", r"\bmediation\b",
                r"\bdisputes?\b.{0,120}\b(?:settled|resolved|decided|heard|brought|submitted|referred)\b",
                r"仲裁", r"争议.{0,30}(?:解决|提交|诉讼|管辖|协商)", r"(?:管辖|起诉|诉讼).{0,10}法院", r"向.{0,30}法院.{0,10}(?:起诉|提起诉讼)"),
               "low", "low", "Where are disputes decided (which courts or arbitration, in which city), and is that "
                             "practical for us?",
               cuad=False),
)

# Chinese names and lawyer questions, for Chinese contracts and Chinese-speaking visitors.
CHINESE: dict[str, tuple[str, str]] = {
    "Parties": ("合同当事人", "所有签约主体是否都写明了完整的法定名称？"),
    "Agreement Date": ("签署日期", "是否写明了签署日期，并与生效日期一致？"),
    "Effective Date": ("生效日期", "各方义务从何时开始？"),
    "Expiration Date": ("到期日期", "合同何时终止？终止后哪些条款继续有效？"),
    "Renewal Term": ("续约期限", "能否阻止自动续约？最迟何时必须提出？"),
    "Notice Period to Terminate Renewal": ("不续约通知期", "需在续约日前多少天、以何种方式发出通知？"),
    "Governing Law": ("适用法律", "适用的法律是否可以接受？与争议解决地是否一致？"),
    "Termination for Convenience": ("无因解约", "谁可以无因解除合同？需提前多久通知？解除时应支付什么？"),
    "Cap on Liability": ("责任上限", "责任上限是否足够且对双方对等？哪些情形不受上限约束？"),
    "Uncapped Liability": ("无上限责任", "哪些责任没有上限？能否设定上限或通过保险覆盖？"),
    "Non-Compete": ("竞业限制", "竞业限制的期限、地域和产品范围分别是什么？"),
    "Exclusivity": ("排他性", "具体哪些内容是排他的？期限多长？是否有最低承诺量？"),
    "Anti-Assignment": ("禁止转让", "我们能否不经同意将合同转让给关联方或收购方？"),
    "Change of Control": ("控制权变更", "任何一方被收购时，本合同会怎样？"),
    "License Grant": ("许可授予", "许可范围（领域、地域、期限、再许可）是否满足我们的使用需要？"),
    "IP Ownership Assignment": ("知识产权归属转让", "我们让渡或取得哪些知识产权？既有知识产权是否排除在外？"),
    "Audit Rights": ("审计权", "审计频率、通知期限和费用承担如何约定？"),
    "Insurance": ("保险", "要求的险种和保额是否写明且合理？"),
    "Warranty Duration": ("保证期限", "保证期多长、从何时起算、有哪些救济方式？"),
    "Liquidated Damages": ("违约金", "约定的违约金是否是对损失的合理预估？是否为唯一救济？"),
    "Confidentiality": ("保密", "哪些信息属于保密信息？合同结束后保密义务持续多久？有哪些例外？"),
    "Dispute Resolution": ("争议解决", "争议由哪里的法院或仲裁机构解决？对我们是否便利？"),
}
CLAUSE_TYPES = tuple(replace(c, name_zh=CHINESE[c.name][0], question_zh=CHINESE[c.name][1]) for c in CLAUSE_TYPES)
BY_NAME = {c.name: c for c in CLAUSE_TYPES}
CUAD_NAMES = frozenset(c.name for c in CLAUSE_TYPES if c.cuad)


def display_name(category: str, lang: str) -> str:
    """A category as a reader sees it: "适用法律 (Governing Law)" in Chinese, the CUAD name otherwise."""
    clause = BY_NAME.get(category)
    return f"{clause.name_zh} ({category})" if lang == "zh" and clause and clause.name_zh else category
