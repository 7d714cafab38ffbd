"""Uploaded policy documents: plain text or .docx (python-docx) to text, and the parsed preview staff
check before the document goes into a draft — sections, articles, departments, amounts and dates
found, with a warning for anything odd."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

from knowledge.parser import parse_document
from knowledge.store import Store

TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
LONG_CLAUSE_CHARS = 2000


class DocumentError(ValueError):
    pass


def text_of_upload(filename: str, data: bytes) -> str:
    """The document's text: .docx paragraphs (and table cells) in order, or a UTF-8 / GB18030 text file."""
    if filename.lower().endswith(".docx") or data[:2] == b"PK":
        return _docx_text(data)
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError("文件既不是 .docx，也不是 UTF-8 或 GB18030 编码的文本")


def _docx_text(data: bytes) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DocumentError(f"无法读取 .docx 文件：{error}") from error
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("　".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def document_preview(text: str, doc_id: str, store: Store | None = None, today: dt.date | None = None) -> dict:
    """What the parser found, as staff check it before publishing."""
    today = today or dt.date.today()
    document = parse_document(text, doc_id)
    warnings = []
    if not document.clauses:
        warnings.append("没有找到编号条款（一、（一）1.）：这是一份政策文件吗？")
    if not document.number:
        warnings.append("没有找到文号（如 宝政办发〔2020〕49号）：回答将无法引用文号")
    if not document.title:
        warnings.append("没有找到标题")
    if document.date is None:
        warnings.append("没有找到成文日期")
    if store is not None and store.document(doc_id) is not None:
        warnings.append(f"已有文件 {doc_id}：发布后将重新载入（文字不同的条款生成新版本，消失的条款将废止）")
    seen, sections = set(), []
    clauses = []
    for clause in document.clauses:
        if clause.clause_id in seen:
            warnings.append(f"条款编号重复：{clause.clause_id}")
        seen.add(clause.clause_id)
        if clause.section and clause.section not in sections:
            sections.append(clause.section)
        if ".0" in f".{clause.path}":
            warnings.append(f"{clause.clause_id}：编号跳级（如 一、后直接是 1.）")
        if clause.article and not clause.departments:
            warnings.append(f"{clause.clause_id}（{clause.title}）：没有找到负责部门")
        if len(clause.text) > LONG_CLAUSE_CHARS:
            warnings.append(f"{clause.clause_id}：条款很长（{len(clause.text)} 字），检查是否漏了编号")
        for limit in clause.time_limits:
            if limit.expired(today):
                warnings.append(f"{clause.clause_id}：“{limit.raw}”已于 {limit.until} 到期")
        clauses.append({"clause_id": clause.clause_id, "path": clause.path, "section": clause.section,
                        "article": clause.article, "title": clause.title,
                        "sentences": len(clause.sentences), "departments": clause.departments,
                        "amounts": [a.raw for a in clause.amounts],
                        "dates": [{"raw": t.raw, "until": t.until.isoformat()} for t in clause.time_limits]})
    return {"doc_id": doc_id, "number": document.number, "title": document.title, "issuer": document.issuer,
            "date": document.date.isoformat() if document.date else None, "sections": sections,
            "articles": len({c.article for c in document.clauses if c.article}),
            "clause_count": len(document.clauses),
            "departments": sorted({d for c in document.clauses for d in c.departments}),
            "amounts": sorted({a.raw for c in document.clauses for a in c.amounts}),
            "dates": sorted({t.raw for c in document.clauses for t in c.time_limits}),
            "clauses": clauses, "warnings": warnings}
