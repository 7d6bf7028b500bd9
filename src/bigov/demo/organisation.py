"""The organisation: roles, skills, functions, people, central governance, business units and
teams."""

from __future__ import annotations

from bigov.demo import names
from bigov.demo.common import _Region
from bigov.demo.governance import _GovernanceBuilder
from bigov.demo.measures import OPERATIONAL_MEASURES
from bigov.finance.models import FundingSource
from bigov.governance.models import Cadence, NodeKind
from bigov.org.models import BusinessPlan, ManagementTeam, OrgUnit, OrgUnitKind, Person, Role
from bigov.resources.models import Skill
from bigov.work.models import Nature


class _OrganisationBuilder(_GovernanceBuilder):
    """The organisation and the central governance nodes."""

    def person(self, org_unit_id: int | None, role: str, name: str | None = None) -> int:
        rng = self.rng
        if name is None:
            for _ in range(20):  # unique names while the pool lasts (always at small scale)
                name = f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.SURNAMES)}"
                if name not in self.used_names:
                    break
        assert name is not None
        self.used_names.add(name)
        self.person_seq += 1
        first, _, last = name.partition(" ")
        email = f"{first}.{last}.{self.person_seq}".lower().replace("'", "")
        return self.w.add(
            Person,
            code=f"PER-{self.person_seq:05d}",
            name=name,
            email=f"{email}@{names.EMAIL_DOMAIN}",
            org_unit_id=org_unit_id,
            role_id=self.roles[role],
        )

    def central(self) -> None:
        w = self.w
        for code, name, description in names.ROLES:
            self.roles[code] = w.add(Role, code=code, name=name, description=description)
        for code, name, description in names.SKILLS:
            self.skills[code] = w.add(Skill, code=code, name=name, description=description)
        self.root = w.add(
            OrgUnit,
            code="ORG-NW",
            name=names.ORGANISATION_NAME,
            kind=OrgUnitKind.GROUP,
            parent_id=None,
            cost_centre="1000",
            description="The group",
        )

        def fn(code: str, name: str, cc: str) -> int:
            return w.add(
                OrgUnit,
                code=code,
                name=name,
                kind=OrgUnitKind.FUNCTION,
                parent_id=self.root,
                cost_centre=cc,
                description=None,
            )

        self.fn_exec = fn("FN-EXEC", "Executive Office", "1010")
        self.fn_pmo = fn("FN-PMO", "Portfolio Office", "1020")
        self.fn_assure = fn("FN-ASSURE", "Internal Audit & Assurance", "1030")
        self.fn_innov = fn("FN-INNOV", "Innovation Lab", "1040")
        p = self.person
        self.chair = p(self.fn_exec, "ROLE-NED")
        self.neds = [p(self.fn_exec, "ROLE-NED") for _ in range(3)]
        self.ceo = p(self.fn_exec, "ROLE-CEO")
        self.coo = p(self.fn_exec, "ROLE-EXEC")
        self.transformation_dir = p(self.fn_exec, "ROLE-EXEC")
        self.secretary = p(self.fn_exec, "ROLE-SEC")
        self.pmo_head = p(self.fn_pmo, "ROLE-DIR")
        self.pmo_analysts = [p(self.fn_pmo, "ROLE-PMO") for _ in range(3 + self.regions // 5)]
        self.assurance = [p(self.fn_assure, "ROLE-ASSURE") for _ in range(2)]
        self.innovation_lead = p(self.fn_innov, "ROLE-HEAD")
        self.portfolio_directors = {
            key: p(self.fn_exec, "ROLE-DIR") for key, *_ in names.PORTFOLIOS
        }
        self.cfo = p(self.fn_exec, "ROLE-EXEC")

        board = self.node(
            "GOV-BOARD",
            "Main Board",
            NodeKind.MAIN_BOARD,
            None,
            self.chair,
            Cadence.QUARTERLY,
            25,
            self.root,
            "Sets strategy and risk appetite; holds the executive to account.",
            [*self.neds, self.ceo, self.cfo, self.coo],
            (),
        )
        self.node(
            "GOV-OPS",
            "Operational Performance Committee",
            NodeKind.BOARD_SUBGROUP,
            board,
            self.coo,
            Cadence.MONTHLY,
            18,
            self.fn_exec,
            "Business performance against targets and business plans.",
            [self.ceo, self.cfo],
            ("CALLS-HANDLED", "FIRST-TIME-FIX"),
        )
        self.node(
            "GOV-PRODUCT",
            "Product & Customer Committee",
            NodeKind.BOARD_SUBGROUP,
            board,
            self.ceo,
            Cadence.MONTHLY,
            19,
            self.fn_exec,
            "Products, tariffs and customer experience.",
            [self.coo],
            (),
        )
        change = self.node(
            "GOV-CHANGE",
            "Change Committee",
            NodeKind.BOARD_SUBGROUP,
            board,
            self.ceo,
            Cadence.MONTHLY,
            20,
            self.fn_exec,
            "The change portfolio as a whole: balance, envelopes, escalations.",
            [self.transformation_dir, self.cfo],
            (),
        )
        pdg = self.node(
            "GOV-PDG",
            "Portfolio Direction Group",
            NodeKind.PORTFOLIO_DIRECTION,
            board,
            self.ceo,
            Cadence.QUARTERLY,
            14,
            self.fn_exec,
            "Strategic objectives of the change portfolios, priorities and balance.",
            [self.transformation_dir, self.cfo, *self.portfolio_directors.values()],
            (),
        )
        self.node(
            "GOV-PPG",
            "Portfolio Progress Group",
            NodeKind.PORTFOLIO_PROGRESS,
            pdg,
            self.transformation_dir,
            Cadence.MONTHLY,
            15,
            self.fn_pmo,
            "Delivery of the portfolios; front-door approvals; delegated OTCs.",
            [self.pmo_head, *self.portfolio_directors.values()],
            (),
        )
        self.node(
            "GOV-INVEST",
            "Investment Committee",
            NodeKind.FINANCE,
            board,
            self.cfo,
            Cadence.MONTHLY,
            16,
            self.fn_exec,
            "Money across run and change: funding, reallocation, business cases.",
            [self.ceo, self.transformation_dir],
            (),
        )
        self.node(
            "GOV-PMO",
            "Business Support (PMO hub)",
            NodeKind.BUSINESS_SUPPORT,
            change,
            self.pmo_head,
            Cadence.MONTHLY,
            9,
            self.fn_pmo,
            "Standards, data quality and support for boards and teams.",
            self.pmo_analysts,
            (),
        )
        self.node(
            "GOV-ASSURE",
            "Assurance Panel",
            NodeKind.ASSURANCE,
            board,
            self.assurance[0],
            Cadence.QUARTERLY,
            12,
            self.fn_assure,
            "Independent reviews and delivery confidence assessments.",
            self.assurance[1:],
            (),
        )
        self.scope("GOV-BOARD", org_unit_id=self.root)
        self.scope("GOV-INVEST", org_unit_id=self.root)
        self.scope("GOV-PMO", org_unit_id=self.root)
        fy_names = {fy: f"{fy - 1}/{fy % 100:02d}" for fy in self.fys}
        for fy in self.fys:
            root = self.w.add(
                FundingSource,
                code=f"FUND-FY{fy}",
                name=f"Group funding {fy_names[fy]}",
                parent_id=None,
                nature=None,
                fiscal_year=fy,
                amount=None,
                currency="GBP",
                description="The one organisation-wide pot for run and change.",
            )
            self.funding_root[fy] = root
            for nature, label in ((Nature.RUN, "Run"), (Nature.CHANGE, "Change")):
                self.funding[(fy, nature)] = self.w.add(
                    FundingSource,
                    code=f"FUND-FY{fy}-{nature.value.upper()}",
                    name=f"{label} envelope {fy_names[fy]}",
                    parent_id=root,
                    nature=nature,
                    fiscal_year=fy,
                    amount=None,
                    currency="GBP",
                    description=f"The {label.lower()} share of the group pot.",
                )

    def region_org(self, reg: _Region) -> None:
        w, p = self.w, self.person
        for bu in names.BUSINESS_UNITS:
            bu_code = f"BU-{bu.code}{reg.sfx}"
            bu_id = w.add(
                OrgUnit,
                code=bu_code,
                name=f"{bu.name}{reg.nsfx}",
                kind=OrgUnitKind.BUSINESS_UNIT,
                parent_id=self.root,
                cost_centre=f"{2000 + 100 * len(reg.bu) + 1000 * reg.index}",
                description=None,
            )
            reg.bu[bu.short] = bu_id
            reg.bu_code[bu.short] = bu_code
            director = p(bu_id, "ROLE-EXEC" if bu.short == "FIN" else "ROLE-DIR")
            reg.director[bu.short] = director
            reg.heads[bu.short] = []
            for dept_sfx, dept_name, teams in bu.departments:
                dept_id = w.add(
                    OrgUnit,
                    code=f"DEP-{bu.short}-{dept_sfx}{reg.sfx}",
                    name=f"{dept_name}{reg.nsfx}",
                    kind=OrgUnitKind.DEPARTMENT,
                    parent_id=bu_id,
                    cost_centre=None,
                    description=None,
                )
                reg.dept[(bu.short, dept_sfx)] = dept_id
                reg.heads[bu.short].append(p(dept_id, "ROLE-HEAD"))
                for n, team in enumerate(teams, start=1):
                    team_code = f"TM-{bu.short}-{dept_sfx}-{n}{reg.sfx}"
                    team_id = w.add(
                        OrgUnit,
                        code=team_code,
                        name=f"{team}{reg.nsfx}",
                        kind=OrgUnitKind.TEAM,
                        parent_id=dept_id,
                        cost_centre=None,
                        description=None,
                    )
                    p(team_id, "ROLE-TL")
                    reg.teams.append(
                        (team_id, bu.short, dept_sfx, names.TEAM_SKILLS[dept_sfx], team_code)
                    )
            reg.benefit_owners[bu.short] = [p(bu_id, "ROLE-BO"), p(bu_id, "ROLE-BCM")]
            p(bu_id, "ROLE-FBP")
            mt_code = f"MT-{bu.code}{reg.sfx}"
            reg.mt[bu.short] = w.add(
                ManagementTeam,
                code=mt_code,
                name=f"{bu.name} Management Team{reg.nsfx}",
                org_unit_id=bu_id,
                lead_id=director,
            )
            for fy in self.fys:
                w.add(
                    BusinessPlan,
                    code=f"PLAN-{mt_code}-FY{fy}",
                    management_team_id=reg.mt[bu.short],
                    fiscal_year=fy,
                    title=f"{bu.name} business plan {fy - 1}/{fy % 100:02d}{reg.nsfx}",
                    status="approved" if fy <= self.fy else "draft",
                    summary=f"How {bu.name} will meet its targets in FY{fy}.",
                )
            measures = [
                m.code
                for m in OPERATIONAL_MEASURES
                if m.org_unit_code.startswith(f"DEP-{bu.short}-")
            ]
            node_code = f"GOV-{mt_code}"
            reg.mt_node[bu.short] = self.node(
                node_code,
                f"{bu.name} Management Team{reg.nsfx}",
                NodeKind.MANAGEMENT_TEAM,
                self.nodes["GOV-OPS"],
                director,
                Cadence.MONTHLY,
                self.rng.randint(6, 11),
                bu_id,
                f"Runs {bu.name} and its business plan; realises benefits.",
                reg.heads[bu.short] + reg.benefit_owners[bu.short][1:],
                measures,
            )
            self.scope(node_code, org_unit_id=bu_id)
            self.scope("GOV-OPS", org_unit_id=bu_id)

    @staticmethod
    def bu_spec(short: str) -> names.BusinessUnitSpec:
        return next(b for b in names.BUSINESS_UNITS if b.short == short)
