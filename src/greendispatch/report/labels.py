"""Bilingual labels (Chinese, then English) and colours that the report's figures and tables
share: the layers of the daily supply stack, the metrics of a run and the signals of a hub."""

# Supply stack, bottom to top: (SupplyResult field, label, colour).
SUPPLY_STACK = (
    ("own_used_mwh", "自有风光 Own wind/solar used", "#2ca02c"),
    ("discharge_mwh", "储能放电 Battery discharge", "#17becf"),
    ("contracted_used_mwh", "合约绿电 Contracted green", "#98df8a"),
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
    "captured_share": "捕获占比 Captured share",
    "rounded_captured_share": "占取整调度节省比 Share of the oracle's saving",
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
