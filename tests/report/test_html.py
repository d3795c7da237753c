"""report.html: self-contained (plotly.js inline once, nothing fetched), bilingual, escaped, and
its daily supply stack adds up to the engine's SupplyResult."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

from greendispatch.report.html import (
    METRIC_LABELS,
    SUPPLY_KEYS,
    SUPPLY_STACK,
    daily_mean,
    daily_starts,
    daily_sum,
    daily_supply,
    write_report,
)
from greendispatch.sim.runner import (
    Simulation,
    SimulationRequest,
    prepare,
    results_document,
    run_policies,
)
from tests.helpers import DATA_DIR, render_in_browser, small_scenario, write_yaml

# Few jobs over a few days fall short of the generator's utilisation target; that is expected.
pytestmark = pytest.mark.filterwarnings("ignore:.*utilisation target:RuntimeWarning")

DAYS = 3
EVIL = "<script>alert('x')</script>"


def _simulate(req: SimulationRequest) -> tuple[Simulation, dict[str, Any]]:
    sim = prepare(req)
    run_policies(sim, req)
    return sim, results_document(sim, req)


@pytest.fixture(scope="module")
def china() -> tuple[Simulation, dict[str, Any]]:
    """Every policy over three days of china-hubs (the real code path, shortened)."""
    return _simulate(
        SimulationRequest(scenario="china-hubs", policies="all", days=DAYS, n_jobs=400, seed=7)
    )


@pytest.fixture(scope="module")
def report(china: tuple[Simulation, dict[str, Any]], tmp_path_factory) -> tuple[Path, str]:
    sim, doc = china
    path = tmp_path_factory.mktemp("report") / "report.html"
    written = write_report(path, sim, doc)
    return written, path.read_text(encoding="utf-8")


def embedded_figure(page: str, name: str) -> dict[str, Any]:
    m = re.search(
        rf'<script type="application/json" id="fig-{name}" data-plot="plot-{name}">(.*?)</script>',
        page,
        re.S,
    )
    assert m is not None, f"figure {name} not embedded"
    return json.loads(m.group(1))


def test_report_is_written_atomically_and_returns_its_path(report: tuple[Path, str]) -> None:
    path, page = report
    assert path.is_file() and path.name == "report.html"
    assert page.startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temporary left


def test_report_renders_in_a_browser_with_no_error_and_no_request(
    report: tuple[Path, str], china: tuple[Simulation, dict[str, Any]]
) -> None:
    path, _ = report
    _, doc = china
    seen = render_in_browser(
        path,
        "[[...document.querySelectorAll('div.js-plotly-plot')].map(e => [e.id, e.data.length,"
        " e.querySelectorAll('.main-svg').length]),"
        " document.getElementById('plot-comparison').data[0].x]",
    )
    assert seen.errors == []
    assert seen.requests == [path.resolve().as_uri()]  # the page itself, nothing else
    drawn, bars = seen.value
    assert [d[0] for d in drawn] == ["plot-comparison", "plot-supply", "plot-intensity",
                                     "plot-starts"]  # fmt: skip
    assert all(n_traces > 0 and n_svg > 0 for _, n_traces, n_svg in drawn), drawn
    assert list(doc["policies"]) == [b.split()[-1] for b in bars]
    assert "仿真报告 Simulation report" in seen.text and "枢纽 Hubs" in seen.text


def test_every_metric_row_has_a_bilingual_label(
    china: tuple[Simulation, dict[str, Any]], report: tuple[Path, str]
) -> None:
    _, doc = china
    _, page = report
    scalars = [
        k for k, v in next(iter(doc["policies"].values())).items() if not isinstance(v, dict)
    ]
    for key in scalars:
        label = METRIC_LABELS.get(key)
        assert label is not None and re.search(r"[\u4e00-\u9fff]", label), key
        assert str(escape(label)) in page, key  # the row carries it


def test_plotly_js_is_inline_once_and_nothing_is_fetched(report: tuple[Path, str]) -> None:
    _, page = report
    bundle = get_plotlyjs()
    assert page.count(bundle[:400]) == 1
    assert bundle in page
    external = re.findall(
        r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//",
        page,
        re.I,
    )
    assert external == []
    assert "@import" not in page and "@font-face" not in page


def test_page_names_every_policy_and_hub_in_both_languages(
    china: tuple[Simulation, dict[str, Any]], report: tuple[Path, str]
) -> None:
    sim, doc = china
    _, page = report
    for heading in (
        "策略对比",
        "Policy comparison",
        "各枢纽供电结构",
        "Supply stack per hub",
        "碳强度与作业调度随时间变化",
        "利用率",
    ):
        assert heading in page, heading
    assert "全国一体化算力网络国家枢纽节点" in page  # title_zh
    assert "location-based" in page
    for name in doc["policies"]:
        assert f'<th class="name">{name}</th>' in page, name
    for hub in sim.loaded.scenario.hubs:
        assert hub.name_zh in page, hub.name_zh
    for value in (f"{len(sim.jobs):,}", str(DAYS), "perfect", str(sim.seed)):  # the config
        assert f"<dd>{value}</dd>" in page, value
    assert "相对基线 Carbon vs baseline" in page


def test_daily_supply_adds_up_to_the_supply_result(china: tuple[Simulation, dict]) -> None:
    sim, _ = china
    run = sim.runs["green-first"]
    days = daily_supply(run)
    assert set(days) == set(SUPPLY_KEYS)
    for key, daily in days.items():
        per_slot = getattr(run.supply, key)
        assert daily.shape == (per_slot.shape[0], DAYS)
        np.testing.assert_allclose(daily.sum(axis=1), per_slot.sum(axis=1), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(daily[:, 1], per_slot[:, 24:48].sum(axis=1), rtol=1e-12)
    stack = sum(days[k] for k, _, _ in SUPPLY_STACK)
    np.testing.assert_allclose(stack, days["load_mwh"], rtol=1e-9)  # supply = load, per day
    starts = daily_starts(run)
    assert starts.sum() == int((run.placements.hub >= 0).sum())


def test_embedded_supply_stack_matches_the_supply_result(
    china: tuple[Simulation, dict[str, Any]], report: tuple[Path, str]
) -> None:
    sim, _ = china
    _, page = report
    fig = embedded_figure(page, "supply")
    run = sim.runs["green-first"]
    n_h = len(sim.loaded.scenario.hubs)
    per_hub = len(SUPPLY_STACK) + 1
    assert len(fig["data"]) == n_h * per_hub
    assert "green-first" in fig["layout"]["title"]["text"]
    for h in (0, n_h - 1):
        traces = fig["data"][h * per_hub : (h + 1) * per_hub]
        for trace, (key, _, _) in zip(traces, SUPPLY_STACK, strict=False):
            assert sum(trace["y"]) == pytest.approx(getattr(run.supply, key)[h].sum(), abs=0.01)
        assert -sum(traces[-1]["y"]) == pytest.approx(run.supply.curtailed_mwh[h].sum(), abs=0.01)
        assert [t["visible"] for t in traces] == [h == 0] * per_hub


def test_figures_are_valid_plotly(report: tuple[Path, str]) -> None:
    _, page = report
    for name in ("comparison", "supply", "intensity", "starts"):
        fig = embedded_figure(page, name)
        go.Figure(fig)  # raises on an unknown attribute or a bad value
    starts = embedded_figure(page, "starts")
    assert {"yaxis", "yaxis2"} <= set(starts["layout"])  # chosen policy and baseline


def test_names_from_scenario_files_are_escaped(tmp_path: Path) -> None:
    data = small_scenario()
    data["title"] = f"Title {EVIL}"
    data["hubs"][0]["name"] = f"West {EVIL}"
    data["hubs"][0]["name_zh"] = "西部<b>枢纽</b>"
    src = write_yaml(tmp_path / "evil.yaml", data)
    sim, doc = _simulate(
        SimulationRequest(scenario=str(src), policies="baseline,green-first", n_jobs=40, seed=1)
    )
    page = write_report(tmp_path / "out" / "report.html", sim, doc).read_text(encoding="utf-8")
    assert EVIL not in page and "<b>枢纽</b>" not in page
    assert "&lt;script&gt;" in page and "西部&lt;b&gt;枢纽&lt;/b&gt;" in page
    supply = embedded_figure(page, "supply")
    labels = [b["label"] for b in supply["layout"]["updatemenus"][0]["buttons"]]
    assert labels[0] == "西部&lt;b&gt;枢纽&lt;/b&gt; West &lt;script&gt;alert('x')&lt;/script&gt;"


def test_oracle_bound_and_captured_share_are_shown_when_present(
    china: tuple[Simulation, dict[str, Any]], tmp_path: Path
) -> None:
    sim, doc = china
    doc = copy.deepcopy(doc)
    for i, m in enumerate(doc["policies"].values()):
        m["captured_share"] = 0.1 * i
    doc["oracle"] = {"bound_t": 1.5, "rounded_t": 2.0, "lp": {"mode": "grouped"}}
    page = write_report(tmp_path / "report.html", sim, doc).read_text(encoding="utf-8")
    assert "捕获率 Captured share" in page and '<th class="name">下界 bound</th>' in page
    bars = embedded_figure(page, "comparison")["data"]
    assert bars[0]["x"][-1] == "下界 bound" and bars[0]["y"][-1] == 1.5  # carbon panel
    assert bars[-1]["x"][-1] == "下界 bound" and bars[-1]["y"][-1] == 1.0  # captured: all
    assert "分组 grouped" in page and "<dd>2 t CO₂</dd>" in page


def _oracle_section(page: str) -> dict[str, str]:
    """The oracle's figures as the page shows them: {label: text}."""
    section = page[page.index("Optimal bound (oracle)") :]
    section = section[: section.index("</dl>")]
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section, re.S))


def test_oracle_figures_are_formatted_bilingual_text(
    china: tuple[Simulation, dict[str, Any]], tmp_path: Path
) -> None:
    sim, doc = china
    doc = copy.deepcopy(doc)
    doc["oracle"] = {  # as results.json has them after a year of china-hubs
        "bound_t": 7176.9,
        "rounded_t": 9054.806361868214,
        "rounding_gap": 0.26165827590821233,
        "build_s": 0.023878349995356984,
        "solve_s": 17.82704165999894,
        "lp": {"mode": "presence", "block_slots": 1, "groups": 1705, "columns": 40544,
               "rows": 33961},
        "rounding": {"method": "heuristic", "milp_binaries": 654398},
        "basis": "LP lower bound on location-based carbon with perfect foresight",
    }  # fmt: skip
    page = write_report(tmp_path / "report.html", sim, doc).read_text(encoding="utf-8")
    assert "0.26165827590821233" not in page and "&#34;mode&#34;" not in page
    assert _oracle_section(page) == {
        "下界 Lower bound": "7,176.9 t CO₂",
        "取整调度 Rounded schedule": "9,054.8 t CO₂",
        "取整差距 Rounding gap": "+26.2%（取整调度相对下界 rounded schedule vs bound）",
        "线性规划 LP": "驻留 presence（作业留在分配给它的枢纽 each job held to its hub），1,705 组 "
        "groups，40,544 列 columns，33,961 行 rows，每个时间块 1 个时段 1 slot(s) per time block",
        "耗时 Time": "构建 build 0.0 s，求解 solve 17.8 s",
        "取整方法 Rounding": "取整启发式 rounding heuristic，MILP 需 654,398 个二元变量 binaries，"
        "超出上限 over the limit",
        "口径 Basis": "完美预见下基于位置碳排放的线性规划下界；取整调度是由其取整得到的可行调度"
        "（小规模实例为混合整数规划的最优整数调度）。 LP lower bound on location-based carbon "
        "with perfect foresight.",
    }


def test_captured_shares_have_one_chinese_term_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_yaml(tmp_path / "small.yaml", small_scenario())
    sim, doc = _simulate(
        SimulationRequest(scenario=str(src), policies="baseline,oracle", n_jobs=40, seed=1)
    )
    page = write_report(tmp_path / "report.html", sim, doc).read_text(encoding="utf-8")
    captured, rounded = METRIC_LABELS["captured_share"], METRIC_LABELS["rounded_captured_share"]
    assert captured.startswith("捕获率 ") and rounded.startswith("相对取整调度的捕获率 ")
    for old in ("捕获占比", "占取整调度节省比", "节省比"):
        assert old not in page, old
    note = page[page.index("下界 bound：") :]
    note = note[: note.index("</p>")]
    assert f"{captured} = (baseline − policy) / (baseline − bound)" in note
    assert f"{rounded} = (baseline − policy) / (baseline − oracle)" in note
    shown = _oracle_section(page)  # a real oracle run: the MILP rounded this small instance
    assert shown["取整方法 Rounding"].startswith(
        "混合整数规划 MILP（最优整数调度 the best integral"
    )
    assert "已证明最优 proven optimal" in shown["取整方法 Rounding"]
    gap = doc["oracle"]["rounding_gap"]
    assert shown["取整差距 Rounding gap"].startswith(f"{gap:+.1%}（")


def _carbon_change_cells(page: str) -> list[tuple[str, str]]:
    row = re.search(r'<tr class="carbon_change">(.*?)</tr>', page, re.S)
    assert row is not None
    return re.findall(r'<td(?: class="(\w+)")?>([^<]*)</td>', row.group(1))[1:]


def test_carbon_change_is_coloured_by_its_sign(
    china: tuple[Simulation, dict[str, Any]], tmp_path: Path
) -> None:
    sim, doc = china
    doc = copy.deepcopy(doc)
    base = doc["policies"]["baseline"]["carbon_t"]
    doc["policies"]["wait-awhile"]["carbon_t"] = base * 1.027  # worse than the baseline
    doc["policies"]["carbon-time"]["carbon_t"] = base  # no change
    doc["policies"]["cost"]["carbon_t"] = base * 0.9
    page = write_report(tmp_path / "report.html", sim, doc).read_text(encoding="utf-8")
    cells = dict(zip(doc["policies"], _carbon_change_cells(page), strict=True))
    assert cells["baseline"] == ("", "—")
    assert cells["wait-awhile"] == ("worse", "+2.7%")
    assert cells["carbon-time"] == ("", "+0.0%")
    assert cells["cost"] == ("better", "-10.0%")
    seen = render_in_browser(
        tmp_path / "report.html",
        "[...document.querySelectorAll('tr.carbon_change td')].map("
        "td => [td.textContent, getComputedStyle(td).color])",
    )
    colours = dict(seen.value)
    assert colours["+2.7%"] == "rgb(179, 38, 30)"  # red: more carbon than the baseline
    assert colours["-10.0%"] == "rgb(35, 122, 46)"  # green: less


def test_tables_fit_the_page_without_a_horizontal_scrollbar(
    china: tuple[Simulation, dict[str, Any]], tmp_path: Path
) -> None:
    sim, doc = china
    doc = copy.deepcopy(doc)
    doc["oracle"] = {"bound_t": 1.5, "rounded_t": 2.0}  # two more columns: oracle and bound
    doc["policies"]["oracle"] = doc["policies"]["green-first"]
    path = write_report(tmp_path / "report.html", sim, doc)
    seen = render_in_browser(  # at 1280 px wide (Playwright's default page)
        path,
        "[innerWidth, [...document.querySelectorAll('div.scroll')].map("
        "d => [d.querySelector('thead th').textContent, d.scrollWidth, d.clientWidth])]",
    )
    width, tables = seen.value
    # hubs, signal sources, comparison, utilisation, misses per tenant
    assert width == 1280 and len(tables) == 5
    for first_header, scroll_width, client_width in tables:
        assert scroll_width <= client_width, (first_header, scroll_width, client_width)


def test_hub_table_says_its_means_are_over_the_simulated_period(
    china: tuple[Simulation, dict[str, Any]], report: tuple[Path, str]
) -> None:
    sim, _ = china
    _, page = report
    assert "年均" not in page
    assert '模拟期平均 PUE <span class="en">Mean PUE over the run</span>' in page
    assert '模拟期平均碳强度 <span class="en">Mean grid intensity over the run, gCO₂/kWh' in page
    assert f"模拟期（{DAYS} 天）" in page and f"simulated period ({DAYS} days)" in page
    first = re.search(r'<table class="hubs">.*?<tbody>\s*<tr>(.*?)</tr>', page, re.S)
    assert first is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first.group(1), re.S)
    assert cells[-1] == f"{np.mean(sim.signals.pue[0]):.3f}"  # over the 3 days simulated
    assert cells[-2] == f"{np.mean(sim.signals.ci_g_per_kwh[0]):,.0f}"


def test_notes_and_modelled_signals_are_bilingual(report: tuple[Path, str]) -> None:
    _, page = report
    notes = re.findall(r"<li>(.*?)</li>", page[page.index("Modelled signals") :], re.S)
    shortfalls = [n for n in notes if "utilisation target" in n]
    assert shortfalls and all("资源池" in n and "目标利用率" in n for n in shortfalls)
    # china-hubs models every signal: no "the others are read from data files".
    assert "The others are read from data files" not in page


def test_signals_from_files_are_said_so(tmp_path: Path) -> None:
    data = small_scenario()
    for hub in data["hubs"]:
        hub["grid"] = {"zone": "DE-LU", "carbon": "file", "currency": "USD",
                       "carbon_file": str(DATA_DIR / "grid-2023" / "DE-LU.csv")}  # fmt: skip
    src = write_yaml(tmp_path / "files.yaml", data)
    sim, doc = _simulate(SimulationRequest(scenario=str(src), policies="baseline", n_jobs=20))
    page = write_report(tmp_path / "report.html", sim, doc).read_text(encoding="utf-8")
    assert "（其余信号读取自数据文件 The others are read from data files.）" in page
    assert "成本 Cost (USD，电网 + 绿电合同 grid + contracted)" in page


def test_cost_names_its_currency_and_contracted_green_is_one_term(
    report: tuple[Path, str],
) -> None:
    _, page = report
    assert "<td>成本 Cost (CNY，电网 + 绿电合同 grid + contracted)</td>" in page
    assert "合约绿电" not in page
    assert '绿电合同 <span class="en">Contracted green MW</span>' in page
    names = [t["name"] for t in embedded_figure(page, "supply")["data"]]
    assert "绿电合同 Contracted green" in names


def test_single_policy_without_baseline(tmp_path: Path) -> None:
    sim, doc = _simulate(
        SimulationRequest(scenario="china-hubs", policies="cost", days=1, n_jobs=50, seed=3)
    )
    page = write_report(tmp_path / "report.html", sim, doc).read_text(encoding="utf-8")
    assert "Carbon vs baseline" not in page
    assert "yaxis2" not in embedded_figure(page, "starts")["layout"]
    assert "— cost" in embedded_figure(page, "supply")["layout"]["title"]["text"]


def test_failed_render_leaves_the_old_report(
    china: tuple[Simulation, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, doc = china
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")

    def boom(*_: Any) -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr("greendispatch.report.html.render_report", boom)
    with pytest.raises(RuntimeError):
        write_report(path, sim, doc)
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize(
    ("n_t", "spd", "sums", "means"),
    [
        (48, 24, [276.0, 852.0], [11.5, 35.5]),
        (30, 24, [276.0, 159.0], [11.5, 26.5]),  # partial last day of 6 slots
        (5, 24, [10.0], [2.0]),
    ],
)
def test_daily_sum_and_mean_handle_a_partial_last_day(
    n_t: int, spd: int, sums: list[float], means: list[float]
) -> None:
    arr = np.vstack([np.arange(n_t, dtype=float), np.ones(n_t)])
    np.testing.assert_allclose(daily_sum(arr, spd)[0], sums)
    np.testing.assert_allclose(daily_mean(arr, spd)[0], means)
    np.testing.assert_allclose(daily_mean(arr, spd)[1], 1.0)
    assert daily_sum(arr, spd)[1].sum() == n_t


def test_misses_per_tenant_add_up_and_are_in_the_report(
    china: tuple[Simulation, dict[str, Any]], report: tuple[Path, str]
) -> None:
    sim, doc = china
    _, page = report
    section = page[page.index('<section id="tenants">') :]
    section = section[: section.index("</section>")]
    assert "Deadlines missed per tenant" in section and "各租户错过截止时间的作业" in section
    for name, m in doc["policies"].items():
        tenants = m["tenants"]
        assert sum(t["jobs"] for t in tenants.values()) == m["jobs"] == len(sim.jobs)
        assert sum(t["deadline_misses"] for t in tenants.values()) == m["deadline_misses"]
        run = sim.runs[name]
        for code, tenant in enumerate(run.jobs.tenants):
            mine = run.jobs.tenant == code
            if mine.any():
                assert tenants[tenant]["deadline_misses"] == int(run.placements.missed[mine].sum())
                row = f"{tenants[tenant]['deadline_misses']:,} / {tenants[tenant]['jobs']:,}"
                assert f'<td class="text">{tenant}</td>' in section and row in section
