"""Where a bundle (manifest version 4) puts each 文书, and the README.txt that tells a reader what is in it.

An auditor opening the zip should find a case's papers the way the case went: each document under the step that
made it (`documents/0005-行政处罚决定/呈卫投〔2026〕0007号-行政处罚决定书-….pdf`), not under its digest. The manifest's
`documents` entries tie each path back to the SHA-256 the record signs, which is what verification keys on.
Member names are UTF-8 (the zip's language-encoding flag, bit 11, set for every non-ASCII name: Info-ZIP unzip 6,
7-Zip, Windows 10 and macOS read them); each part is cut to a safe length with its extension kept.

The README names one command — `VERIFY_COMMAND`, the same the audit page and the docs name — and says where the
root certificate to trust comes from: never from the bundle itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from signatures.evidence import listed_files, path_component
from signatures.records import SignedRecord

DOCUMENTS_DIR = "documents/"
README = "README.txt"
# The one name of the offline check, in the README, on the audit page and in the docs (docs/evidence-bundle.md).
VERIFY_COMMAND = "casetrail verify-bundle"
ROOT_FILE = "agency-root.pem"  # what the README and the page call the root certificate an auditor saved
ROOT_COMMAND = f"casetrail ca root --out {ROOT_FILE}"
FINGERPRINT_COMMAND = "casetrail ca root --fingerprint"


def bundle_file_name(case_id: str) -> str:
    """What the audit page names a case's bundle; the README's command uses it too."""
    return f"case-{case_id}.zip"


def verify_command(case_id: str) -> str:
    """The exact command that checks this case's bundle offline."""
    return f"{VERIFY_COMMAND} {bundle_file_name(case_id)} --trust {ROOT_FILE}"


def step_folder(seq: int, task_name: str) -> str:
    """`0005-行政处罚决定`: the step's position (sorts as the case went) and its name."""
    return f"{seq:04d}-{path_component(task_name, 60)}"


def document_paths(records: Sequence[SignedRecord], carried: Mapping[str, bytes]) -> dict[str, str]:
    """{sha256: member path} for every carried document: under the first step that names it, by the file name its
    record gives. A document no record names (none should be) keeps the digest name of earlier versions."""
    paths: dict[str, str] = {}
    taken: set[str] = set()
    for signed in records:
        rec = signed.record
        for doc in rec.documents:
            if doc.sha256 in paths or doc.sha256 not in carried:
                continue
            name = path_component(doc.name or doc.kind or "document")
            if not name.lower().endswith(".pdf"):
                name += ".pdf"
            path = f"{DOCUMENTS_DIR}{step_folder(rec.seq, rec.task_name)}/{name}"
            stem, n = path[:-len(".pdf")], 2
            while path in taken:  # two 文书 of one name in one step (a receipt per party): numbered
                path, n = f"{stem}-{n}.pdf", n + 1
            paths[doc.sha256] = path
            taken.add(path)
    for digest in carried:
        paths.setdefault(digest, f"{DOCUMENTS_DIR}{digest}.pdf")
    return paths


def readme(records: Sequence[SignedRecord], *, created_utc: str, documents: Mapping[str, str],
           withheld: int, root_fingerprint: str) -> bytes:
    """README.txt: what the bundle holds and the exact command to check it, in Chinese, then in English.

    `documents`: {sha256: path} of the carried 文书; `withheld`: how many documents are left out on purpose.
    `root_fingerprint` is printed only to be compared with the one the agency publishes — a copy inside the bundle
    proves nothing by itself."""
    first = records[0].record
    command = verify_command(first.case_id)
    steps = [_step_line(s, documents) for s in records]
    zh = [
        f"证据包说明 — 案件 {first.case_number}",
        f"生成时间（UTC）：{created_utc}；共 {len(records)} 个办理环节的签名记录。",
        "",
        "本证据包可以离线核验：不需要连接本机关系统，不需要数据库。核验命令：",
        "",
        f"    {command}",
        "",
        f"（{bundle_file_name(first.case_id)} 换成本文件保存的名称。）结果：0 = 全部环节核验通过；1 = 未通过，报告指出第一个不一致的",
        "环节和原因；2 = 输入无法使用（不是证据包，或根证书无法读取）。",
        "",
        f"根证书（{ROOT_FILE}）不要取自本证据包：certs/root.pem 只是副本，伪造者可以一并替换。请从本机关审计核验页面下载，",
        f"或由本机关用 {ROOT_COMMAND} 导出后另行提供，并把它的 SHA-256 指纹与本机关公布的指纹（{FINGERPRINT_COMMAND}",
        f"打印，审计核验页面也显示）通过电话或公文等其他途径核对。本包所附副本的指纹为 {root_fingerprint}，仅供对照。",
        "",
        "包内文件：",
        "    README.txt                   本说明",
        "    manifest.json, manifest.sig  文件清单（每个文件的 SHA-256）及机关电子印章对清单的签名",
        "    records/NNNN.json, .sig      第 NNNN 个环节的签名记录及执法人员的签名",
        "    proofs/NNNN.json             该记录收录于全局日志（Merkle 树）的证明；treehead.json 为签名树头",
        "    documents/NNNN-环节名/       该环节生成并签名的执法文书（PDF）",
        "    evidence/NNNN-环节名/        该环节收取的证据文件（原样保存）",
        "    disclosures/NNNN.json        本包披露的密封字段（如有）",
        "    certs/, crl.pem              执法人员、日志和印章证书，证书吊销列表",
        "    definition/                  本案所依据的流程模型（BPMN、表单），用于核对办理路径",
        "",
        f"依法未随本包提供的文书：{withheld} 份（清单中的 withheld 说明原因）。",
        "",
        "各环节：",
        *steps,
        "",
        "格式说明见 casetrail 文档 docs/evidence-bundle.md。",
    ]
    en = [
        f"Evidence bundle — case {first.case_number}",
        f"Made {created_utc} (UTC); signed records of {len(records)} steps.",
        "",
        "This bundle can be checked offline: no connection to the agency's system, no database. The command:",
        "",
        f"    {command}",
        "",
        f"(Use the name you saved this file under for {bundle_file_name(first.case_id)}.) Exit status: 0 = every "
        "step valid; 1 = invalid, the report names the first step that does not add up and why; 2 = unusable input "
        "(not a bundle, or an unreadable root certificate).",
        "",
        f"Do not take the root certificate ({ROOT_FILE}) from this bundle: certs/root.pem is a copy a forger could "
        "replace along with everything else. Download it from the agency's audit page, or have the agency export it "
        f"with `{ROOT_COMMAND}`, and compare its SHA-256 fingerprint with the one the agency publishes "
        f"(`{FINGERPRINT_COMMAND}` prints it, the audit page shows it) over another channel — a phone call, an "
        f"official letter. The copy in this bundle has fingerprint {root_fingerprint}, for comparison only.",
        "",
        "What is inside:",
        "    README.txt                   this text",
        "    manifest.json, manifest.sig  every file with its SHA-256, and the agency seal's signature over the list",
        "    records/NNNN.json, .sig      the signed record of step NNNN and the officer's signature",
        "    proofs/NNNN.json             the record's inclusion in the global Merkle log; treehead.json the signed head",
        "    documents/NNNN-step/         the enforcement documents (PDF) the step produced and signed",
        "    evidence/NNNN-step/          the evidence files the step took, byte for byte",
        "    disclosures/NNNN.json        sealed fields this bundle discloses (if any)",
        "    certs/, crl.pem              officer, log and seal certificates, the revocation lists",
        "    definition/                  the process model (BPMN, forms) the case ran on: the path is replayed",
        "",
        f"Documents left out on purpose: {withheld} (the manifest's `withheld` says why).",
        "",
        "Steps: see the list above (seq, step, documents, evidence files).",
        "",
        "The format: docs/evidence-bundle.md in the casetrail documentation.",
    ]
    return ("\n".join([*zh, "", "-" * 72, "", *en]) + "\n").encode()


def _step_line(signed: SignedRecord, documents: Mapping[str, str]) -> str:
    rec = signed.record
    carried = sum(1 for d in rec.documents if d.sha256 in documents)
    files = len(listed_files(rec.form_data) or ())
    return f"    {rec.seq:04d}  {rec.task_name}  —  文书 documents {carried}/{len(rec.documents)}，证据文件 evidence files {files}"
