"""``mpc``: a forecast-driven rolling-horizon policy.

Every scheduling cycle (each slot where jobs arrive) it solves the dispatch LP of
:mod:`greendispatch.opt.model` over the forecast horizon (48 h by default) for the jobs that
just arrived, on top of the load already booked and the capacity still free, with every hub's
battery dispatched jointly from its planned state of charge. It sees only the forecasts issued
at that slot. Work that cannot fit after the horizon is due inside it; the rest may run later,
at each hub's expected marginal carbon over the job's window past the horizon (the engine's view
there: the replay of the last days observed, less the booked load), so a month-long job picks
its hub by the month, not by its first two days. The engine then places each job where the
plan put it (whole devices, one hub, contiguous unless interruptible), and the battery follows
the plan's discharge for the slots until the next cycle, storing any own surplus in the others
(the forecasts may have missed it). Every ``REPLAN_PAUSES_H`` hours the engine lets each
interruptible job it placed choose again, on the new forecasts, the slots it runs from then to
its deadline at its hub (``replan_pauses_h``): its pauses, placed on arrival by the replay
beyond the forecasts, move to the calm or dirty hours the forecasts now show. A re-solve gets
``CYCLE_ITERATIONS`` simplex iterations; a cycle whose LP is not solved by then places its jobs
by marginal carbon alone (as ``green-first`` would) and the batteries follow an LP of their own
on the booked load, so a year stays within minutes (how many cycles that was:
:meth:`MPC.planning`, in ``results.json``).

Where a hub's pool is nearly full, its last room costs a job more (``ROOM_PRICE``): a clean hub
that fills up keeps that room for the jobs that gain most there.

Placements are committed when a job arrives (the engine books them), so a later cycle plans
around them rather than moving them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from greendispatch.dispatch.base import JobView, SlotView, marginal_carbon, uncovered_carbon
from greendispatch.energy.supply import BatteryParams, serve_load
from greendispatch.opt.classes import JobSlots, horizon_groups, job_slots
from greendispatch.opt.model import EnergyInputs, battery_plan, build, extract
from greendispatch.opt.oracle import PlanFollower
from greendispatch.sim.network import NetworkArrays
from greendispatch.workload.jobs import JobTable

MPC_HORIZON_H = 48.0
# How often the pauses of running interruptible jobs are planned again (a year of china-hubs:
# 84.5 % of the achievable saving without, 86.0 % every 6 h; see docs/optimisation.md).
REPLAN_PAUSES_H = 6.0
# Simplex iterations per re-solve (about half a second here at most); a cycle that needs more
# falls back (see begin_cycle). An iteration limit keeps runs reproducible; a time limit would not.
CYCLE_ITERATIONS = 3_000
# HiGHS's options per cycle, by what the cycle's jobs are (measured, 60 days of each network):
# - a job whose window reaches past the horizon brings work priced past it, and that LP went
#   fastest on the primal simplex without presolve (china-hubs, nearly every cycle: 80 s
#   against 111 s with the defaults; a year 455 s against 685 s);
# - a cycle whose jobs all end inside the horizon is solved fastest by HiGHS's defaults (dual
#   simplex after presolve; global-16, 93 % of its cycles: 36 s against 65 s with the primal).
LONG_CYCLE_OPTIONS = {"presolve": "off", "simplex_strategy": 4}
SHORT_CYCLE_OPTIONS: dict[str, str | int] = {}
_DROP = 1.0  # t CO2 per device-slot of must-do work the free capacity cannot take (> any energy)
# The price of room on a nearly full hub (an online-knapsack price): where more than
# ROOM_PRICE_FROM of a pool's devices are booked in a slot, a job pays for its own power there
# up to ROOM_PRICE x the slot's mean grid carbon x PUE across the hubs, rising linearly to a
# full pool. A clean hub that fills up keeps its last room for the jobs that gain most there
# (those that cannot leave the calm hours of a wind hub), not for whoever comes first. A year of
# china-hubs: 504,654 t against 505,870 t without, and 12 missed deadlines against 50
# (docs/optimisation.md).
ROOM_PRICE_FROM = 0.8
ROOM_PRICE = 1.0


class MPC(PlanFollower):
    name = "mpc"

    def __init__(
        self,
        carbon_weight: float = 1.0,
        horizon_h: float = MPC_HORIZON_H,
        iteration_limit: int = CYCLE_ITERATIONS,
        replan_pauses_h: float | None = REPLAN_PAUSES_H,
        room_price: float = ROOM_PRICE,
    ):
        super().__init__(np.zeros(0, dtype=np.int64), np.zeros((0, 0, 0)), np.zeros(0))
        self.carbon_weight = carbon_weight
        self.room_price = room_price
        self.free: np.ndarray | None = None  # the engine's free devices (H, K, T), live
        self.horizon_h = horizon_h
        self.iteration_limit = iteration_limit
        self.replan_pauses_h = replan_pauses_h  # read by the engine (None: never)
        self.solve_s = 0.0
        self.cycles = 0
        self.unsolved = 0

    def prepare(
        self,
        jobs: JobTable,
        net: NetworkArrays,
        n_slots: int,
        dt_h: float,
        battery,
        observed=None,
        grid_charge: bool = False,
    ) -> None:
        """Called by the engine before the first slot: the jobs' windows (no signals),
        ``observed(a, b)``, the supply inputs of past slots (the meters), from which the
        batteries' actual state of charge is kept, and whether batteries may charge from the
        grid (``--grid-charge``: the plans then buy grid energy for them where it pays)."""
        self.grid_charge = grid_charge
        self.js: JobSlots = job_slots(jobs, net, n_slots, dt_h)
        self.devices = jobs.devices.astype(np.float64)
        self.member = np.full(len(jobs), -1, dtype=np.int64)
        self.net, self.dt, self.n_slots = net, dt_h, n_slots
        self.battery: BatteryParams = battery
        self.width = max(1, round(self.horizon_h / dt_h))
        self.mw_per_device = net.kw * (1.0 - net.idle) / 1000.0
        self.cap = np.maximum(net.cap.astype(np.float64), 1.0)  # for the room price
        self.charge = np.zeros((net.n_hubs, n_slots))
        self.discharge = np.zeros((net.n_hubs, n_slots))
        self.soc = battery.soc0_mwh.copy()  # its lowest state of charge (empty) by default
        self.observed = observed
        self.soc_slot = 0  # the slot self.soc is the state of charge at the start of
        self.last = None  # (t, charge, discharge, soc) planned at the previous cycle

    def _commit_until(self, t: int, observe: bool = True) -> None:
        """The previous plan's battery actions for its slots before ``t``, and the batteries'
        state of charge at ``t``: as the meters show it when the engine gives them (the plan's
        own otherwise: forecasts err, so the actual state drifts from the planned one)."""
        if self.last is None:
            return
        t0, charge, discharge, soc = self.last
        n = min(t, t0 + charge.shape[1]) - t0
        if n <= 0:
            return
        self.charge[:, t0 : t0 + n] = charge[:, :n]
        self.discharge[:, t0 : t0 + n] = discharge[:, :n]
        if not observe:
            return
        if self.observed is None:
            self.soc, self.soc_slot = soc[:, n - 1].copy(), t0 + n
            return
        a, b = self.soc_slot, t0 + n
        seen = self.observed(a, b)
        bat = self.battery
        frac = np.divide(self.soc, bat.e_mwh, out=np.zeros_like(self.soc), where=bat.e_mwh > 0)
        start = dataclasses.replace(bat, soc0_frac=np.clip(frac, bat.min_soc_frac, 1.0))
        served = serve_load(*seen[:4], start, seen.ci_g_per_kwh, 0.0, dt_h=self.dt,
                            schedule=(self.charge[:, a:b], self.discharge[:, a:b]),
                            grid_charge=self.grid_charge,
                            grid_charge_threshold_g_per_kwh=(  # unused with a schedule
                                np.zeros(len(self.soc)) if self.grid_charge else None))  # fmt: skip
        self.soc, self.soc_slot = served.soc_mwh[:, -1].copy(), b

    def begin_cycle(
        self, t: int, batch: np.ndarray, sv: SlotView, free: np.ndarray, booked_it: np.ndarray
    ) -> None:
        self._commit_until(t)
        self.free = free
        js = self.js
        idx = batch[js.mask[batch].any(axis=1) & (js.end[batch] > t)]
        width = min(self.width, self.n_slots - t, sv.width)
        ci, pue = sv.ci[:, :width], sv.pue[:, :width]
        leftover = self._after_horizon(idx, t, width, sv)
        groups = horizon_groups(js, idx, t, width, leftover)
        contracted = self.net.contracted_mw[:, None] * self.dt
        e = EnergyInputs(
            ci=ci,
            pue=pue,
            price=sv.price[:, :width] if self.carbon_weight < 1.0 else ci,
            own_mwh=np.maximum(sv.green_mw[:, :width] * self.dt - contracted, 0.0),
            contracted_mwh=np.broadcast_to(contracted, ci.shape),
            cap=free[:, :, t : t + width],
            mw_per_device=self.mw_per_device,
            base_it_mw=booked_it[:, t : t + width],
            battery=self.battery,
            dt_h=self.dt,
            contract_price=np.zeros(ci.shape[0]),
            soc0_mwh=self.soc,
        )
        objective = "carbon" if self.carbon_weight >= 1.0 else "weighted"
        model = build(groups, e, objective=objective, carbon_weight=self.carbon_weight,
                      drop_penalty=_DROP, grid_charge=self.grid_charge)  # fmt: skip
        reaches_past = bool((js.end[idx] - t > width).any())
        options = LONG_CYCLE_OPTIONS if reaches_past else SHORT_CYCLE_OPTIONS
        sol = model.lp.solve(method="simplex", iteration_limit=self.iteration_limit,
                             options=options)  # fmt: skip
        self.cycles += 1
        self.solve_s += sol.solve_s
        self.offset = t
        if not sol.optimal:
            # No plan within the iterations: these jobs are placed by marginal carbon alone, and the
            # batteries follow an LP of their own on the load already booked.
            self.member = np.full(len(self.member), -1, dtype=np.int64)
            self.unsolved += 1  # cycles whose LP hit the iteration limit
            flows = battery_plan(e, objective=objective, carbon_weight=self.carbon_weight,
                                 grid_charge=self.grid_charge)  # fmt: skip
            if flows is not None:
                self.last = (t, flows["charge"], flows["discharge"], flows["soc"])
            return
        self.member = groups.member
        plan = extract(model, sol, e)
        self.remaining = np.zeros((len(idx), ci.shape[0], width))
        g, h, s, x = plan.run
        self.remaining[g, h, s] = x
        self.last = (t, plan.charge_mwh, plan.discharge_mwh, plan.soc_mwh)

    def _after_horizon(self, idx: np.ndarray, t: int, width: int, sv: SlotView) -> np.ndarray:
        """Per job and hub (G, H): t CO2 per device-slot of work left past the horizon, the
        job's marginal carbon at that hub (grid x PUE on what the forecast green surplus left
        by the booked load does not cover) averaged over its window's slots past the horizon;
        the horizon's own mean where the window ends inside it. inf at hubs it may not use."""
        js = self.js
        job_mw = self.mw_per_device[:, js.pool[idx]].T * self.devices[idx][:, None]  # (G, H)
        lo, hi = width, np.clip(js.end[idx] - t, width, sv.width)  # past-horizon window per job
        kg_h = np.empty(job_mw.shape)
        for i in range(len(idx)):
            a, b = (lo, hi[i]) if hi[i] > lo else (0, width)
            surplus, ci_pue = sv.surplus_it_mw[:, a:b], sv.ci_pue[:, a:b]
            kg_h[i] = uncovered_carbon(job_mw[i], surplus, ci_pue).mean(axis=1)
            if self.room_price > 0:
                weight = self._room_weight(int(js.pool[idx[i]]), t + a, ci_pue)
                kg_h[i] += weight.mean(axis=1) * job_mw[i] * self.room_price
        rate = kg_h / self.devices[idx][:, None] * self.dt / 1000.0
        return np.where(js.mask[idx], rate, np.inf)

    def _room_weight(self, k: int, a: int, ci_pue: np.ndarray) -> np.ndarray:
        """Per hub and slot from ``a`` (the shape of ``ci_pue``, H x W): how far pool kind
        ``k`` is booked past ``ROOM_PRICE_FROM`` (0 below it, 1 full; a hub without the pool: 1)
        times the slot's mean of ``ci_pue`` across the hubs. x ``room_price`` x a job's MW: the
        price of its room, kg/h."""
        booked = 1.0 - self.free[:, k, a : a + ci_pue.shape[1]] / self.cap[:, k, None]
        fill = np.clip((booked - ROOM_PRICE_FROM) / (1.0 - ROOM_PRICE_FROM), 0.0, 1.0)
        return fill * ci_pue.mean(axis=0)

    def _carbon(self, job: JobView, slot: SlotView) -> np.ndarray:
        """Marginal carbon plus the price of the room the job takes on nearly full hubs
        (``ROOM_PRICE``)."""
        c = marginal_carbon(job, slot)
        if self.room_price > 0 and self.free is not None:
            pool = int(self.js.pool[job.index])
            c += (
                self.room_price
                * self._room_weight(pool, slot.t, slot.ci_pue[:, : c.shape[1]])
                * job.marginal_mw[:, None]
            )
        return c

    def planning(self) -> dict[str, float | int]:
        """How the run's re-solves went (``results.json``'s ``planning``): cycles solved, those
        whose LP was not solved within ``iteration_limit`` (their jobs placed by marginal carbon),
        and the seconds HiGHS took."""
        return {"cycles": self.cycles, "unsolved": self.unsolved,
                "iteration_limit": self.iteration_limit, "solve_s": self.solve_s}  # fmt: skip

    def battery_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        self._commit_until(self.n_slots, observe=False)  # the run is over: no state needed
        return self.charge, self.discharge
