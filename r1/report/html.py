"""The report as one HTML page: inline CSS, curves as PNG data: URIs, every text HTML-escaped, nothing
fetched from anywhere."""

from __future__ import annotations

import base64
import re
from html import escape
from typing import Any

from r1.report.collect import Run
from r1.report.samples import Problem, segments
from r1.report.table import STYLE_COLUMNS, stage_table
from r1.results import GENERAL_COLUMNS, REWARD_MODEL_COLUMNS, general_cells, pct, reward_model_cells

_NUMBER = re.compile(r"-?[\d.]+%?|—|nan")  # a cell of r1.results' tables holding a number

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #ccc; padding: 3px 7px; }
th { background: #f3f3f3; } td { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td .cons { color: #777; font-size: .85em; } .scroll { overflow-x: auto; }
.curves { display: flex; flex-wrap: wrap; gap: 8px; } .curves img { max-width: 100%; border: 1px solid #eee; }
.cards { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(260px, 1fr); gap: 8px;
         overflow-x: auto; }
.card { border: 1px solid #ccc; border-radius: 4px; padding: 6px; min-width: 0; }
.card.right { border-top: 4px solid #2a2; } .card.wrong { border-top: 4px solid #c33; }
.card pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; margin: 4px 0 0; }
mark.answer { background: #ffe38a; font-weight: bold; } mark.lang { background: #f7c4e9; }
.meta { color: #555; font-size: .85em; } .problem { margin: 1.2em 0 .3em; }
"""


def render(run: Run, curves: dict[str, list[tuple[str, bytes]]], problems: list[Problem]) -> str:
    """The page: the stage table, every evaluation, reward models, general prompts, curves, samples."""
    title = f"r1 report: {run.run_dir.resolve().name}"
    body = [f"<h1>{escape(title)}</h1>",
            f"<p class=meta>{escape(run.what)} in <code>{escape(str(run.run_dir))}</code></p>",
            "<h2 id=stages>Stages</h2>", _stage_table(run)]
    if run.evals:
        body += ["<details><summary>Every evaluation (one row per stage, temperature and family)</summary>",
                 _eval_table(run.evals), "</details>"]
    if run.reward_models:
        body += ["<h2 id=reward-models>Reward models</h2>",
                 _text_table(REWARD_MODEL_COLUMNS, reward_model_cells(run.reward_models))]
    if run.general:
        body += ["<h2 id=general>Held-out general prompts: reward models against the hidden oracle</h2>",
                 _text_table(GENERAL_COLUMNS, general_cells(run.general))]
    for name, pngs in curves.items():
        body += [f"<h2>Curves: {escape(name)}</h2>", _curves(pngs)]
    if problems:
        body += ["<h2 id=samples>The same held-out problems, stage by stage</h2>", _legend(), *map(_problem, problems)]
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _table(head: list[str], rows: list[list[str]], table_id: str = "") -> str:
    """A table; `head` is escaped here, the cells arrive as HTML (escaped by their makers)."""
    ident = f" id={table_id}" if table_id else ""
    return (f"<div class=scroll><table{ident}><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>\n" + "\n".join("<tr>" + "".join(row) + "</tr>" for row in rows)
            + "</tbody></table></div>")


def _num(text: str) -> str:
    return f"<td class=num>{escape(text)}</td>"


def _stage_table(run: Run) -> str:
    table = stage_table(run)
    head = ["stage", "kind"] + [f"{family} T={t}" for t, family in table.columns]
    if table.temperature is not None:
        head += [f"{label} (T={table.temperature})" for _, label in STYLE_COLUMNS]
    rows = []
    for row in table.rows:
        cells = [f"<td>{escape(row['name'])}</td>", f"<td>{escape(row['kind'])}</td>"]
        for column in table.columns:
            m = row["cells"].get(column)
            cons = None if m is None else m.get(f"cons@{m['k']}")
            cells.append("<td class=num>—</td>" if m is None else
                         f"<td class=num>{pct(m['pass@1'])} <span class=cons>cons@{m['k']} {pct(cons)}</span></td>")
        if table.temperature is not None:
            tokens = row["style"]["mean_tokens"]
            cells.append(_num("—" if tokens is None else f"{tokens:.1f}"))
            cells += [_num(pct(row["style"][key])) for key, _ in STYLE_COLUMNS[1:]]
        cells.append(f"<td>{escape(row['note'])}</td>")
        rows.append(cells)
    style = "" if table.temperature is None else \
        f"; the style columns average all families' samples at T={escape(table.temperature)}"
    return (f"<p class=meta>pass@1 over k samples per problem, with cons@k (majority vote) beside it{style}.</p>"
            + _table(head + ["note"], rows, "stages"))


def _eval_table(evals: list[dict[str, Any]]) -> str:
    rows = [[f"<td>{escape(r['stage'])}</td>", _num(r["T"]), f"<td>{escape(r['family'])}</td>", _num(str(r["n"])),
             _num(str(r["k"])), _num(pct(r["pass@1"])), _num(pct(r.get(f"cons@{r['k']}"))),
             _num(pct(r.get(f"pass@{r['k']}"))), _num(f"{r['mean_tokens']:.1f}"),
             *[_num(pct(r.get(key))) for key, _ in STYLE_COLUMNS[1:]]] for r in evals]
    return _table(["stage", "T", "family", "problems", "k", "pass@1", "cons@k", "pass@k", "mean tokens",
                   *[label for _, label in STYLE_COLUMNS[1:]]], rows)


def _text_table(columns: list[str], cells: list[list[str]]) -> str:
    """r1.results' text cells (the same as results.md's), numbers right-aligned."""
    return _table(columns, [[_num(cell) if _NUMBER.fullmatch(cell) else f"<td>{escape(cell)}</td>" for cell in row]
                            for row in cells])


def _curves(pngs: list[tuple[str, bytes]]) -> str:
    if not pngs:
        return "<p class=meta>No curves: the run has logged no step yet.</p>"
    return "<div class=curves>" + "".join(
        f"<img alt='{escape(name)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        for name, png in pngs) + "</div>"


def _legend() -> str:
    return ("<p class=meta>Each stage's first sample at the temperature shown. <mark class=answer>answer</mark> "
            "the extracted answer; <mark class=lang>words</mark> of the reasoning not in the target language (what the "
            "language-consistency reward counts). Green top border: correct; red: wrong. Problems where "
            "the stages disagree come first.</p>")


def _problem(problem: Problem) -> str:
    record = problem.record
    cards = []
    for shot, sample in problem.samples:
        right = bool(sample.get("correct"))
        flags = [f"{sample.get('tokens', '?')} tokens", "correct" if right else "wrong"]
        flags += ["truncated"] * (not sample.get("finished", True)) + ["mixed language"] * bool(
            sample.get("mixed_language"))
        text = "".join(escape(piece) if not mark else f"<mark class={mark}>{escape(piece)}</mark>"
                       for piece, mark in segments(sample.get("completion", ""), sample.get("answer"),
                                                   record.get("language") or "en"))
        cards.append(f"<div class='card {'right' if right else 'wrong'}'><b>{escape(shot.stage)}</b> "
                     f"<span class=meta>T={escape(shot.temperature)} · {escape(', '.join(flags))}</span>"
                     f"<pre>{text}</pre></div>")
    return (f"<h3 class=problem>{escape(problem.family)}: {escape(str(record.get('problem', '')))}</h3>"
            f"<p class=meta>{escape(str(record.get('id')))} · reference answer "
            f"<b>{escape(str(record.get('answer')))}</b></p><div class=cards>{''.join(cards)}</div>")
