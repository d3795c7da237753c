"""Bilingual labels (Chinese, then English) and colours that the report's figures and tables
share: the layers of the daily supply stack, the metrics of a run, the signals of a hub and the
oracle's LP and rounding. Contracted green supply is 绿电合同, as in the tenant statements."""

# Supply stack, bottom to top: (SupplyResult field, label, colour).
SUPPLY_STACK = (
    ("own_used_mwh", "自有风光 Own wind/solar used", "#2ca02c"),
    ("discharge_mwh", "储能放电 Battery discharge", "#17becf"),
    ("contracted_used_mwh", "绿电合同 Contracted green", "#98df8a"),
    ("grid_mwh", "电网 Grid", "#7f7f7f"),
)
CURTAILED = ("curtailed_mwh", "弃风弃光 Curtailed (below zero)", "#ff7f0e")
SUPPLY_KEYS = (*(k for k, _, _ in SUPPLY_STACK), CURTAILED[0], "load_mwh")

METRIC_LABELS = {
    "carbon_t": "碳排放 Carbon (t CO₂)",
    "energy_mwh": "设施能耗 Facility energy (MWh)",
    "it_energy_mwh": "IT 能耗 IT energy (MWh)",
    "jobs_carbon_t": "作业分摊碳排 Carbon attributed to jobs (t CO₂)",
    "facility_carbon_t": "设施碳排（自身负载、电网充电）Facility carbon (t CO₂)",
    "grid_charge_carbon_t": "电网充电碳排 Carbon of grid charging (t CO₂)",
    "grid_charge_mwh": "电网充电 Grid charging (MWh)",
    "cost": "成本 Cost",
    "green_share": "绿电占比 Green share",
    "cfe_share": "无碳电力占比 CFE share",
    "curtailed_mwh": "弃风弃光 Curtailed (MWh)",
    "wait_mean_h": "平均等待 Mean wait (h)",
    "wait_p95_h": "P95 等待 Wait p95 (h)",
    "wait_max_h": "最长等待 Max wait (h)",
    "deadline_misses": "错过截止 Deadline misses",
    "unplaced": "未调度 Unplaced jobs",
    "latency_violations": "时延超限 Latency violations",
    "data_moved_tb": "数据迁移 Data moved (TB)",
    "jobs": "作业数 Jobs",
    "runtime_s": "仿真耗时 Runtime (s)",
    "captured_share": "捕获率 Captured share",
    "rounded_captured_share": "相对取整调度的捕获率 Captured share vs the oracle",
}
SIGNAL_LABELS = {
    "ci_g_per_kwh": "电网碳强度 Grid intensity",
    "renewable_share": "可再生占比 Renewable share",
    "price_per_mwh": "电价 Price",
    "temp_c": "气温 Temperature",
    "solar_pu": "光伏出力 Solar output",
    "wind_pu": "风电出力 Wind output",
    "pue": "PUE",
}

#: What the cost metric sums, after its currency.
COST_PARTS = "电网 + 绿电合同 grid + contracted"

#: The oracle's LP forms (``results.json`` ``oracle.lp.mode``); docs/optimisation.md.
LP_MODES = {
    "exact": "精确 exact（各类作业按份额分到各枢纽 each job class shared among its hubs）",
    "presence": "驻留 presence（作业留在分配给它的枢纽 each job held to its hub）",
    "grouped": "分组 grouped（同组作业共享工作量，可跨枢纽 work pooled per group, across hubs）",
}
#: How the oracle's feasible schedule was made (``oracle.rounding.method``).
ROUNDING_METHODS = {
    "milp": "混合整数规划 MILP（最优整数调度 the best integral schedule）",
    "heuristic": "取整启发式 rounding heuristic",
}
#: ``oracle.basis`` in Chinese, shown before the English text of results.json.
ORACLE_BASIS_ZH = (
    "完美预见下基于位置碳排放的线性规划下界；取整调度是由其取整得到的可行调度"
    "（小规模实例为混合整数规划的最优整数调度）。"
)
