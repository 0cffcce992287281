"""The report of a real run, opened in a real browser: a three-stage pipeline (the session's tiny base
model, cold-start data, three GRPO steps with a KL term), evaluated on two families at two temperatures,
whose report `r1 pipeline` writes at its end, loaded in headless Chromium (Debian's package, driven by
Playwright). CI runs it as its own step (`pytest -m browser`, after installing chromium)."""

import shutil

import pytest
import yaml

from r1.pipeline import load_pipeline, run_pipeline

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the dev extra installs it
    sync_playwright = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install -e '.[dev]')"),
]

GRPO = dict(model="base", families=["arithmetic"], train_problems=8, prompts_per_step=2, group_size=4,
            max_new_tokens=24, max_steps=6, save_every=6, rollout_batch_size=16, lr=3e-3, beta=0.01,
            eval_every=3, eval_problems=2, eval_k=2)


@pytest.fixture(scope="module")
def report(tmp_path_factory, tiny_model_dir):
    """(report.html of a finished three-stage pipeline, its stage names)."""
    tmp = tmp_path_factory.mktemp("report-run")
    stages = [{"name": "base", "kind": "model", "settings": {"model": str(tiny_model_dir)}},
              {"name": "cold_start_data", "kind": "cold-start-data", "settings": {"n": 6}},
              {"name": "zero", "kind": "grpo", "settings": GRPO}]
    recipe = {"output_dir": str(tmp / "run"), "seed": 1, "stages": stages,
              "eval": {"benchmarks": ["tiny:arithmetic", "tiny:linear"], "n": 2, "k": 2,
                       "temperatures": [0.6, 1.0], "max_new_tokens": 24}}
    (tmp / "r1.yaml").write_text(yaml.safe_dump(recipe))
    run_pipeline(load_pipeline(tmp / "r1.yaml"))
    return tmp / "run" / "report.html", [s["name"] for s in stages]


def test_the_report_loads_in_chromium_with_every_image_drawn_and_a_row_per_stage(report):
    path, stages = report
    problems, errors, requests = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate("""[...document.images].map(i => {
                const box = i.getBoundingClientRect();
                return {alt: i.alt, natural: i.naturalWidth, width: box.width, height: box.height}; })""")
            rows = page.locator("table#stages tbody tr").all_inner_texts()
            problems = page.locator("h3.problem").count()
            cards = page.locator(".card").count()
        finally:
            browser.close()
    assert errors == []
    # the page and its data: images only; nothing fetched from anywhere
    assert [url.split(":")[0] for url in requests] == ["file"] + ["data"] * (len(requests) - 1)
    assert sorted(i["alt"] for i in images) == ["accuracy", "kl", "length", "reward"]
    assert all(i["natural"] > 0 and i["width"] > 0 and i["height"] > 0 for i in images), images
    assert [row.split("\t")[0] for row in rows] == stages
    # two problems per family (arithmetic, linear), each answered by the two evaluated models
    assert problems == 4 and cards == 4 * 2
