"""Run and change work: portfolios, programmes, projects, workstreams, their plans, contributions,
dependencies, milestones and gates.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal

from bigov.demo import names
from bigov.demo.common import _add_months, _Item, _money, _qty, _Region
from bigov.demo.gaps import _UNGOVERNED, _WEIGHTS_OFF
from bigov.demo.organisation import _OrganisationBuilder
from bigov.governance.models import Cadence, NodeKind
from bigov.work.models import (
    Category,
    Contribution,
    Dependency,
    DependencyKind,
    GateDecision,
    GateOutcome,
    Milestone,
    Nature,
    Phase,
    WorkItem,
    WorkKind,
)

# -- tuning knobs: the health of change work ---------------------------------------------------
# A project's health drives its slip and overrun, hence its status reports (confidence, cost and
# schedule RAG), its cost forecast, its benefits' realisation and the exceptions boards see.
# Share of live projects (delivery, closure) that are troubled (cancelled ones always are).
_TROUBLED_SHARE = 0.15
# Live projects rolling below this (and not troubled) are on watch; so are closed ones below the
# second figure.
_WATCH_SHARE = 0.45
_CLOSED_WATCH_SHARE = 0.3
# Final forecast finish minus baseline finish, days (inclusive range), by health.
_TROUBLED_SLIP_DAYS = (60, 240)
_WATCH_SLIP_DAYS = (10, 60)
_GOOD_SLIP_DAYS = (-10, 10)
# Final forecast at completion / budget - 1 (uniform range), by health.
_TROUBLED_OVERRUN = (0.12, 0.35)
_WATCH_OVERRUN = (0.03, 0.09)
_GOOD_OVERRUN = (-0.04, 0.03)


class _WorkBuilder(_OrganisationBuilder):
    """Work items of each region and their details."""

    def new_item(
        self,
        reg: _Region,
        code: str,
        name: str,
        kind: WorkKind,
        nature: Nature,
        category: Category,
        phase: Phase,
        org_unit_id: int,
        owner_id: int,
        manager_id: int,
        node_id: int | None,
        parent: _Item | None,
    ) -> _Item:
        item_id = self.w.reserve(WorkItem)
        item = _Item(
            item_id,
            code,
            name,
            kind,
            nature,
            category,
            phase,
            org_unit_id,
            owner_id,
            manager_id,
            node_id,
            parent,
        )
        if parent is not None:
            parent.children.append(item)
        self.items.append(item)
        reg.items.append(item)
        return item

    def region_work(self, reg: _Region) -> None:
        rng = self.rng
        for spec in names.PROGRAMMES:
            pf = reg.portfolios[spec.portfolio]
            sro = rng.choice([reg.director[spec.bu], *reg.heads[spec.bu][:1]])
            pgm = self.person(reg.bu[spec.bu], "ROLE-PGM")
            node_code = f"GOV-PG-{spec.code}{reg.sfx}"
            node_id = self.node(
                node_code,
                f"{spec.name} Programme Board{reg.nsfx}",
                NodeKind.PROGRAMME_BOARD,
                self.nodes["GOV-PPG"],
                sro,
                Cadence.MONTHLY,
                rng.randint(10, 13),
                reg.bu[spec.bu],
                f"Directs the {spec.name} programme.",
                [pgm, reg.benefit_owners[spec.bu][1], rng.choice(self.assurance)],
                (),
            )
            prog = self.new_item(
                reg,
                f"PG-{spec.code}{reg.sfx}",
                f"{spec.name}{reg.nsfx}",
                WorkKind.PROGRAMME,
                Nature.CHANGE,
                Category.TRANSFORM,
                Phase.DELIVERY,
                reg.bu[spec.bu],
                sro,
                pgm,
                node_id,
                pf,
            )
            prog.infra = spec.infra
            reg.programmes[spec.code] = prog
            reg.pg_node[spec.code] = node_id
            for n, project_name in enumerate(spec.projects, start=1):
                key = f"{spec.code}-{n:03d}"
                phase = self.pick_phase()
                if key == _UNGOVERNED:
                    phase = Phase.DELIVERY
                self.project(
                    reg,
                    f"PRJ-{key}{reg.sfx}",
                    f"{project_name}{reg.nsfx}",
                    prog,
                    spec.bu,
                    phase,
                    spec.infra,
                    node_code,
                    objectives=spec.objectives,
                    governed=key != _UNGOVERNED,
                )
        seqs: dict[str, int] = defaultdict(int)
        for pf_key, project_name, bu, role in names.STANDALONE_PROJECTS:
            seqs[pf_key] += 1
            code = f"PRJ-{pf_key}-{seqs[pf_key]:03d}{reg.sfx}"
            phase = {"unfunded": Phase.IDENTIFICATION, "withdrawn": Phase.CANCELLED}.get(
                role, Phase.DELIVERY if role == "unaligned" else Phase.DEFINITION
            )
            objectives: tuple[str, ...] = ()
            if role == "unfunded":
                objectives = ("O-09",)
            elif role == "withdrawn":
                objectives = ("O-11",)
            elif role.startswith("innovation-"):
                objectives = (role.removeprefix("innovation-"),)
            item = self.project(
                reg,
                code,
                f"{project_name}{reg.nsfx}",
                reg.portfolios[pf_key],
                bu,
                phase,
                pf_key == "NET",
                "GOV-PPG",
                objectives=objectives,
                governed=True,
                big=False,
            )
            if role == "unfunded":
                item.funded = False
            if role.startswith("innovation-"):
                item.org_unit_id = self.fn_innov
                item.category = Category.GROW
        for bu, sfx_code, name, category, dept in names.WORKSTREAMS:
            head = rng.choice(reg.heads[bu])
            ws = self.new_item(
                reg,
                f"WS-{bu}-{sfx_code}{reg.sfx}",
                f"{name}{reg.nsfx}",
                WorkKind.WORKSTREAM,
                Nature.RUN,
                Category(category),
                Phase.DELIVERY,
                reg.dept[(bu, dept)],
                head,
                head,
                reg.mt_node[bu],
                None,
            )
            ws.start = self.window_start
            ws.a_start = ws.start
            ws.annual = rng.uniform(0.6, 9.0) * 1e6
            ws.growth = (
                rng.uniform(0.08, 0.15) if ws.category is Category.GROW else rng.uniform(0.0, 0.04)
            )
            ws.overrun = rng.choice([-0.03, -0.01, 0.0, 0.01, 0.02, 0.04, 0.07, 0.12])
            ws.health = (
                "good" if ws.overrun <= 0.05 else ("watch" if ws.overrun < 0.1 else "troubled")
            )
            ws.onset = _add_months(self.now_month, -rng.randint(3, 9))
            ws.capex_share = 0.3 if sfx_code in ("MAINS", "RESERVOIR", "INFRA") else 0.0
            team = self.team_for(reg, bu, dept)
            for skill in names.TEAM_SKILLS[dept][:2]:
                ws.skills.append((skill, round(rng.uniform(2, 14), 1), team))
            self.scope(f"GOV-MT-{self.bu_spec(bu).code}{reg.sfx}", work_item_id=ws.id)
        for code, name, bu, description in names.PRODUCTS:
            owner = rng.choice(reg.heads[bu])
            prd = self.new_item(
                reg,
                f"{code}{reg.sfx}",
                f"{name}{reg.nsfx}",
                WorkKind.PRODUCT,
                Nature.RUN,
                Category.GROW,
                Phase.DELIVERY,
                reg.bu[bu],
                owner,
                owner,
                self.nodes["GOV-PRODUCT"],
                None,
            )
            prd.start = self.window_start
            prd.a_start = prd.start
            prd.annual = rng.uniform(0.3, 1.5) * 1e6
            prd.growth = rng.uniform(0.1, 0.25)
            prd.overrun = rng.choice([0.0, 0.02, 0.06])
            prd.onset = _add_months(self.now_month, -4)
            prd.capex_share = 0.2
            prd.skills.append(
                ("SK-DEV", round(rng.uniform(2, 6), 1), self.team_for(reg, "DIG", "DELIVERY"))
            )
            prd.description = description
            self.scope("GOV-PRODUCT", work_item_id=prd.id)
        for pf in reg.portfolios.values():
            self.scope("GOV-PPG", work_item_id=pf.id)
            self.scope("GOV-PDG", work_item_id=pf.id)
            self.scope("GOV-CHANGE", work_item_id=pf.id)
            self.scope("GOV-ASSURE", work_item_id=pf.id)
        self.contributions(reg)
        self.dependencies(reg)
        self.write_items(reg)

    def team_for(self, reg: _Region, bu: str, dept: str) -> int:
        return next(t[0] for t in reg.teams if t[1] == bu and t[2] == dept)

    def pick_phase(self) -> Phase:
        roll = self.rng.random()
        if roll < 0.06:
            return Phase.IDENTIFICATION
        if roll < 0.16:
            return Phase.DEFINITION
        if roll < 0.76:
            return Phase.DELIVERY
        if roll < 0.83:
            return Phase.CLOSURE
        if roll < 0.985:
            return Phase.CLOSED
        return Phase.CANCELLED

    def project(
        self,
        reg: _Region,
        code: str,
        name: str,
        parent: _Item,
        bu: str,
        phase: Phase,
        infra: bool,
        parent_node: str,
        *,
        objectives: tuple[str, ...],
        governed: bool,
        big: bool | None = None,
    ) -> _Item:
        rng = self.rng
        sro = rng.choice(reg.heads[bu])
        pm = self.person(reg.bu[bu], "ROLE-PM")
        wlc = rng.lognormvariate(14.9, 0.7)  # median ~£3m, a long tail of big projects
        has_board = big if big is not None else wlc > 4e6
        node_id: int | None = self.nodes[parent_node] if governed else None
        item = self.new_item(
            reg,
            code,
            name,
            WorkKind.PROJECT,
            Nature.CHANGE,
            rng.choice([Category.TRANSFORM, Category.TRANSFORM, Category.GROW]),
            phase,
            reg.bu[bu],
            sro,
            pm,
            node_id,
            parent,
        )
        if governed and has_board:
            item.node_id = self.node(
                f"GOV-{code}",
                f"{name} Project Board",
                NodeKind.PROJECT_BOARD,
                self.nodes[parent_node],
                sro,
                rng.choice([Cadence.MONTHLY, Cadence.MONTHLY, Cadence.FORTNIGHTLY]),
                rng.randint(3, 8),
                reg.bu[bu],
                f"Directs the {name} project.",
                [pm, rng.choice(reg.benefit_owners[bu])],
                (),
            )
            self.scope(f"GOV-{code}", work_item_id=item.id)
        item.infra = infra
        item.wlc = wlc
        item.capex_share = rng.uniform(0.55, 0.85) if infra else rng.uniform(0.2, 0.5)
        item.objectives = objectives
        self.plan_dates(item)
        pool = (
            ["SK-CIVIL", "SK-FIELD", "SK-PM", "SK-BA", "SK-DATA"]
            if infra
            else ["SK-DEV", "SK-TEST", "SK-BA", "SK-ARCH", "SK-DATA", "SK-PM", "SK-CHANGE"]
        )
        chosen = rng.sample(pool, rng.randint(2, 4))
        if "SK-PM" not in chosen:
            chosen.append("SK-PM")
        for skill in chosen:
            suppliers = [t for t in reg.teams if skill in t[3]]
            own = [t for t in suppliers if t[1] == bu]
            team = rng.choice(own or suppliers)[0]
            fte = 0.5 if skill == "SK-PM" else round(rng.uniform(0.5, 0.4 + wlc / 1.5e6), 1)
            item.skills.append((skill, fte, team))
        return item

    def plan_dates(self, item: _Item) -> None:
        """Baseline, forecast and actual dates and the health of a project, by its phase."""
        rng, as_of = self.rng, self.as_of
        months = rng.randint(10, 30)
        phase = item.phase
        if phase is Phase.IDENTIFICATION:
            start = as_of + dt.timedelta(days=rng.randint(60, 300))
        elif phase is Phase.DEFINITION:
            start = as_of - dt.timedelta(days=rng.randint(20, 150))
        elif phase is Phase.DELIVERY:
            start = as_of - dt.timedelta(days=rng.randint(120, 24 * 30))
            months = max(months, (as_of - start).days // 30 + rng.randint(3, 14))
        elif phase is Phase.CLOSURE:
            months = rng.randint(10, 24)
            start = as_of - dt.timedelta(days=months * 30 + rng.randint(-40, 20))
        elif phase is Phase.CLOSED:
            months = rng.randint(8, 18)
            end = self.day_between(_add_months(self.window_start, 4), as_of - dt.timedelta(days=45))
            start = end - dt.timedelta(days=months * 30)
        else:  # cancelled
            start = as_of - dt.timedelta(days=rng.randint(240, 480))
        item.start = start
        item.finish = start + dt.timedelta(days=months * 30)
        roll = rng.random()
        live = phase in (Phase.DELIVERY, Phase.CLOSURE)
        if phase is Phase.CANCELLED or (live and roll < _TROUBLED_SHARE):
            item.health = "troubled"
            item.slip = rng.randint(*_TROUBLED_SLIP_DAYS)
            item.overrun = rng.uniform(*_TROUBLED_OVERRUN)
        elif (live and roll < _WATCH_SHARE) or (
            phase is Phase.CLOSED and roll < _CLOSED_WATCH_SHARE
        ):
            item.health = "watch"
            item.slip = rng.randint(*_WATCH_SLIP_DAYS)
            item.overrun = rng.uniform(*_WATCH_OVERRUN)
        else:
            item.slip = rng.randint(*_GOOD_SLIP_DAYS)
            item.overrun = rng.uniform(*_GOOD_OVERRUN)
        item.onset = _add_months(self.now_month, -rng.randint(2, 8))
        item.f_start = (
            item.start
            if phase is not Phase.DEFINITION
            else (item.start + dt.timedelta(days=rng.randint(0, 30)))
        )
        item.f_finish = item.finish + dt.timedelta(days=item.slip)
        if item.f_finish <= as_of and phase in (Phase.DELIVERY, Phase.DEFINITION):
            item.f_finish = as_of + dt.timedelta(days=rng.randint(30, 200))
            item.slip = (item.f_finish - item.finish).days
        if phase is Phase.CLOSURE:
            item.f_finish = as_of + dt.timedelta(days=rng.randint(5, 60))
            item.slip = (item.f_finish - item.finish).days
        if phase not in (Phase.IDENTIFICATION,) and start <= as_of:
            item.a_start = item.start
        if phase is Phase.CLOSED:
            item.a_finish = item.f_finish
            if item.a_finish > as_of - dt.timedelta(days=30):
                item.a_finish = as_of - dt.timedelta(days=30)
                item.f_finish = item.a_finish
        if phase is Phase.CANCELLED:
            item.a_finish = as_of - dt.timedelta(days=rng.randint(20, 120))
            item.f_finish = item.a_finish
        item.milestones = self.plan_milestones(item)

    def plan_milestones(self, item: _Item) -> list[tuple[str, dt.date]]:
        assert item.start and item.finish and item.f_finish
        names_ = names.MILESTONES_INFRA if item.infra else names.MILESTONES_CHANGE
        picked = [
            names_[0],
            *sorted(self.rng.sample(names_[1:-1], 4), key=names_.index),
            names_[-1],
        ]
        span = (item.finish - item.start).days
        out = []
        for i, name in enumerate(picked):
            frac = i / (len(picked) - 1)
            base = item.start + dt.timedelta(days=int(span * frac))
            out.append((name, base + dt.timedelta(days=int(item.slip * frac))))
        return out

    def contributions(self, reg: _Region) -> None:
        """Projects → their objectives, workstreams → targets; weights per OTC sum to 1 (except
        the planted one)."""
        by_otc: dict[str, list[_Item]] = defaultdict(list)
        for item in reg.items:
            for key in item.objectives:
                if item.kind is WorkKind.PROJECT:
                    by_otc[key].append(item)
        target_ws = {
            "T-01": ("RET-CONTACT", "RET-COMPLAINTS"),
            "T-02": ("NET-FIELD",),
            "T-03": ("NET-CONTROL",),  # NET-FIELD serves T-02 only: its weights stay ≤ 100 %
            "T-04": ("FIN-AP",),
            "T-05": ("DIG-INFRA", "DIG-APPS"),
            "T-06": ("WAT-QUALITY", "WAT-TREAT"),
        }
        for key, suffixes in target_ws.items():
            for s in suffixes:
                by_otc[key].extend(i for i in reg.items if i.code == f"WS-{s}{reg.sfx}")
        for key in sorted(by_otc):
            contributors = by_otc[key]
            raw = [self.rng.uniform(0.5, 2.0) for _ in contributors]
            total = Decimal(_WEIGHTS_OFF.get(key, Decimal("1")))
            weights = [(total * Decimal(r / sum(raw))).quantize(Decimal("0.0001")) for r in raw]
            weights[-1] = total - sum(weights[:-1], Decimal("0"))
            for item, weight in zip(contributors, weights, strict=True):
                self.w.add(
                    Contribution,
                    code=f"CTB-{item.code}-{key}",
                    work_item_id=item.id,
                    otc_id=reg.otc[key],
                    weight=weight,
                )
            reg.contributions[key] = [i.id for i in contributors]

    def dependencies(self, reg: _Region) -> None:
        """Edges only from an earlier project to a later one, so the graph cannot have a cycle."""
        projects = [i for i in reg.items if i.kind is WorkKind.PROJECT]
        edges: list[tuple[_Item, _Item]] = []
        for a, b in itertools.pairwise(projects):
            if a.parent is b.parent and self.rng.random() < 0.45:
                edges.append((a, b))
        for _ in range(6):
            i, j = sorted(self.rng.sample(range(len(projects)), 2))
            if projects[i].parent is not projects[j].parent:
                edges.append((projects[i], projects[j]))
        seen: list[tuple[int, int]] = []
        for a, b in edges:
            if (a.id, b.id) in seen:
                continue
            seen.append((a.id, b.id))
            self.dep_seq += 1
            roll = self.rng.random()
            kind = (
                DependencyKind.FINISH_TO_START
                if roll < 0.7
                else DependencyKind.START_TO_START
                if roll < 0.9
                else DependencyKind.NEEDS
            )
            self.w.add(
                Dependency,
                code=f"DPN-{self.dep_seq:05d}",
                predecessor_id=a.id,
                successor_id=b.id,
                kind=kind,
                description=f"{b.name} needs {a.name}"
                + (" to finish first" if kind is DependencyKind.FINISH_TO_START else ""),
            )

    def write_items(self, reg: _Region) -> None:
        for prog in reg.programmes.values():
            # a programme spans its projects
            kids = [c for c in prog.children if c.start and c.finish]
            prog.start = min(c.start for c in kids if c.start)
            prog.finish = max(c.finish for c in kids if c.finish)
            prog.f_start = min(c.f_start or c.start for c in kids if c.start)
            prog.f_finish = max(c.f_finish or c.finish for c in kids if c.finish)
            prog.a_start = min((c.a_start for c in kids if c.a_start), default=None)
            prog.wlc = sum(c.wlc for c in kids if c.phase is not Phase.CANCELLED)
        for item in reg.items:
            pct = None
            if item.kind is WorkKind.PROJECT and item.a_start and item.f_finish:
                if item.phase is Phase.CLOSED:
                    pct = 100.0
                else:
                    span = max((item.f_finish - item.a_start).days, 1)
                    pct = min(max((self.as_of - item.a_start).days / span * 100, 0), 99)
            self.w.add(
                WorkItem,
                id=item.id,
                code=item.code,
                name=item.name,
                kind=item.kind,
                parent_id=item.parent.id if item.parent else None,
                nature=item.nature,
                category=item.category,
                phase=item.phase,
                description=item.description,
                owner_id=item.owner_id,
                governing_node_id=item.node_id,
                org_unit_id=item.org_unit_id,
                baseline_start=item.start,
                baseline_finish=item.finish,
                forecast_start=item.f_start or item.start,
                forecast_finish=item.f_finish or item.finish,
                actual_start=item.a_start,
                actual_finish=item.a_finish,
                percent_complete=None if pct is None else _qty(pct),
                whole_life_cost=_money(item.wlc) if item.wlc and item.funded else None,
            )

    def item_details(self, item: _Item) -> None:
        w, as_of = self.w, self.as_of
        if item.kind is WorkKind.PROJECT:
            started = item.a_start is not None
            for n, (name, forecast) in enumerate(item.milestones, start=1):
                assert item.start and item.finish
                frac = (n - 1) / (len(item.milestones) - 1)
                base = item.start + dt.timedelta(days=int((item.finish - item.start).days * frac))
                done = (
                    started
                    and forecast < as_of
                    and (item.a_finish is None or forecast <= item.a_finish)
                )
                if item.phase is Phase.CANCELLED and item.a_finish and forecast > item.a_finish:
                    done = False
                w.add(
                    Milestone,
                    code=f"MS-{item.code}-{n:02d}",
                    work_item_id=item.id,
                    name=name,
                    baseline_date=base,
                    forecast_date=forecast,
                    actual_date=forecast if done else None,
                    is_key=name in ("Go-live", "Commissioning complete", "Asset handed over"),
                )
            self.gates(item)
        self.item_raid(item)

    def gates(self, item: _Item) -> None:
        assert item.start
        node = item.node_id or self.nodes["GOV-PPG"]
        front_door = self.nodes["GOV-PPG"]
        order = [Phase.DEFINITION, Phase.DELIVERY, Phase.CLOSURE, Phase.CLOSED]
        reached = {
            Phase.IDENTIFICATION: 0,
            Phase.DEFINITION: 1,
            Phase.DELIVERY: 2,
            Phase.CLOSURE: 3,
            Phase.CLOSED: 4,
            Phase.CANCELLED: 2,
        }[item.phase]
        dates = {
            Phase.DEFINITION: item.start - dt.timedelta(days=self.rng.randint(30, 90)),
            Phase.DELIVERY: item.start + dt.timedelta(days=self.rng.randint(45, 120)),
            Phase.CLOSURE: (item.f_finish or item.finish or item.start)
            - dt.timedelta(days=self.rng.randint(20, 60)),
            Phase.CLOSED: item.a_finish or item.start,
        }
        for phase in order[:reached]:
            day = min(dates[phase], self.as_of - dt.timedelta(days=1))
            outcome = (
                GateOutcome.APPROVED_WITH_CONDITIONS
                if self.rng.random() < 0.2
                else (GateOutcome.APPROVED)
            )
            if phase is Phase.DELIVERY and self.rng.random() < 0.15:
                self.w.add(
                    GateDecision,
                    code=f"GATE-{item.code}-{phase.value}-1",
                    work_item_id=item.id,
                    to_phase=phase,
                    outcome=GateOutcome.DEFERRED,
                    decided_on=day - dt.timedelta(days=28),
                    node_id=node,
                    notes="Deferred: business case to show benefits by year.",
                )
            self.w.add(
                GateDecision,
                code=f"GATE-{item.code}-{phase.value}",
                work_item_id=item.id,
                to_phase=phase,
                outcome=outcome,
                decided_on=day,
                node_id=front_door if phase is Phase.DEFINITION else node,
                notes="Conditions: confirm resource release before mobilisation."
                if outcome is GateOutcome.APPROVED_WITH_CONDITIONS
                else None,
            )
        if item.phase is Phase.CANCELLED and item.a_finish:
            parent_node = self.node_parent.get(node) or node
            self.w.add(
                GateDecision,
                code=f"GATE-{item.code}-cancelled",
                work_item_id=item.id,
                to_phase=Phase.CANCELLED,
                outcome=GateOutcome.APPROVED,
                decided_on=item.a_finish,
                node_id=parent_node,
                notes="Stopped: the business case no longer holds; budget released.",
            )
