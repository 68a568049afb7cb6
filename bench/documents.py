"""Benchmark the documents library: render, sign, render+sign (one 1–2 page 文书, warm) and a 25-document 案卷.

    .venv/bin/python bench/documents.py --json [--rounds 30] [--fonttools] [--no-subset]
    .venv/bin/python bench/documents.py --previews docs/images   # page-1 PNGs for docs/documents.md

--fonttools emulates a machine without libharfbuzz-subset (WeasyPrint then subsets with fontTools);
--no-subset disables the cached GB2312 subset font (full WenQuanYi Zen Hei only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from documents import (  # noqa: E402
    DossierCover,
    DossierEntry,
    ManifestRow,
    RenderMeta,
    bpmn_to_svg,
    build,
    build_dossier,
    render,
    render_document,
    seal_pdf,
    sign_pdf,
)
from documents.demo_pki import make_demo_pki  # noqa: E402
from documents.samples import sample_data, sample_kinds  # noqa: E402

CST = dt.timezone(dt.timedelta(hours=8))
BPMN = Path(__file__).resolve().parents[1] / "tests" / "unit" / "documents" / "data" / "mini_case.bpmn"
KIND = "penalty_decision"  # 2 pages, the busiest 文书


def _ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def _dossier(meta: RenderMeta, pki) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    docs = [build(k, sample_data(k)) for k in sample_kinds()]
    entries = [DossierEntry(title=d.TITLE, pdf=render(d, meta=meta), step=d.KIND, doc_number=d.doc_number,
                            date=d.date) for d in docs]
    t1 = time.perf_counter()
    manifest = [ManifestRow(step=d.TITLE, signer="李明", cert_fingerprint="ab" * 32, time=meta.time,
                            record_hash="cd" * 32, document_hashes=("ef" * 32,)) for d in docs]
    cover = DossierCover(agency="呈州市卫生健康委员会", case_number="呈卫案〔2026〕0012号",
                         title="呈州市某某美容店从业人员未取得健康合格证明上岗案", party="呈州市某某美容店",
                         cause="从业人员未取得健康合格证明上岗", outcome="警告，罚款人民币5000元", handlers=("李明", "陈静"),
                         filed_on=dt.date(2026, 3, 6), closed_on=dt.date(2026, 4, 15), archived_on=dt.date(2026, 4, 20))
    svg = bpmn_to_svg(BPMN.read_bytes(), done={"start", "f1", "filing", "f2", "investigate", "f3", "gw", "f4", "notice", "f6"},
                      current={"decide"})
    pdf = build_dossier(cover, entries, svg, manifest, "全部 25 个环节：记录签名有效，证书链可信，哈希链完整。",
                        meta=meta, seal=pki.seal)
    t2 = time.perf_counter()
    _dossier.last = pdf  # type: ignore[attr-defined]
    return round(t2 - t0, 3), round(t2 - t1, 3), len(entries)


def bench(rounds: int, meta: RenderMeta) -> dict[str, object]:
    pki = make_demo_pki()
    doc = build(KIND, sample_data(KIND))
    signed_at = dt.datetime(2026, 3, 28, 10, 5, tzinfo=CST)
    t = time.perf_counter()
    first = render_document(doc, meta=meta)  # cold: font set-up (+ subset build on a fresh cache)
    cold_ms = round((time.perf_counter() - t) * 1000, 1)

    def sign(pdf: bytes) -> bytes:
        return sign_pdf(pdf, signer=pki.officer, field_name="Officer", reason="签发", location="呈州市",
                        signing_time=signed_at, box=None, font_cache_dir=meta.font_cache_dir)

    sign(first.pdf)  # warm the stamp path
    render_ms = _ms(lambda: render(doc, meta=meta), rounds)
    sign_ms = _ms(lambda: sign(first.pdf), rounds)
    both_ms = _ms(lambda: sign(render(doc, meta=meta)), rounds)
    seal_ms = _ms(lambda: seal_pdf(sign(first.pdf), seal=pki.seal, signing_time=signed_at,
                                   box=first.boxes["sig-seal"], font_cache_dir=meta.font_cache_dir), max(5, rounds // 3))
    dossier_s, dossier_bind_s, n = _dossier(meta, pki)
    return {
        "document": KIND, "pages": first.page_count, "rounds": rounds, "cold_first_render_ms": cold_ms,
        "render_ms_p50": render_ms, "sign_ms_p50": sign_ms, "render_and_sign_ms_p50": both_ms,
        "sign_and_seal_ms_p50": seal_ms, "dossier_documents": n, "dossier_s": dossier_s,
        "dossier_bind_and_seal_s": dossier_bind_s,
    }


def previews(out: Path, meta: RenderMeta) -> None:
    """Page-1 PNGs (60 dpi) of the main 文书 and of the dossier's process-diagram page."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("case_filing_report", "penalty_prior_notice", "penalty_decision", "collegial_deliberation_record"):
            pdf = Path(tmp) / f"{kind}.pdf"
            pdf.write_bytes(render(build(kind, sample_data(kind)), meta=meta))
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                            str(out / kind)], check=True)
        _dossier(meta, make_demo_pki())
        pdf = Path(tmp) / "dossier.pdf"
        pdf.write_bytes(_dossier.last)  # type: ignore[attr-defined]
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        page = next(i for i, p in enumerate(text.split("\f"), start=1) if "办案流程图" in p and "卷内目录" not in p)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                        str(out / "dossier_diagram")], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--fonttools", action="store_true", help="force WeasyPrint's fontTools subsetting path")
    parser.add_argument("--no-subset", action="store_true", help="do not use the cached GB2312 subset font")
    parser.add_argument("--font-cache", type=Path, default=None, help="subset font cache directory")
    parser.add_argument("--previews", type=Path, default=None, help="write page-1 PNGs to this directory")
    args = parser.parse_args()
    if args.fonttools:
        import weasyprint.pdf.fonts

        weasyprint.pdf.fonts.harfbuzz_subset = None
    meta = RenderMeta(time=dt.datetime(2026, 3, 28, 10, 0, tzinfo=CST), font_cache_dir=args.font_cache,
                      subset_font=not args.no_subset)
    if args.previews:
        previews(args.previews, meta)
        return
    result = bench(args.rounds, meta)
    result["fonttools_path"] = args.fonttools
    result["subset_font"] = not args.no_subset
    print(json.dumps(result, ensure_ascii=False) if args.json else json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
