"""Vocabulary of the demo enterprise: the names, titles and phrases that make it read as a real
organisation. Pure data, no logic; :mod:`bigov.demo` decides how much of it to use and how.

Everything here is fictional. The organisation, its people and its suppliers are invented; the
e-mail domain is under ``.example`` so nothing can ever be sent to it.
"""

from __future__ import annotations

from typing import NamedTuple

ORGANISATION_NAME = "Northwind Utilities plc"
EMAIL_DOMAIN = "northwind-utilities.example"

FIRST_NAMES: tuple[str, ...] = (
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "George",
    "Ava",
    "Jack",
    "Emily",
    "Charlie",
    "Sophie",
    "Thomas",
    "Grace",
    "James",
    "Chloe",
    "William",
    "Lucy",
    "Daniel",
    "Hannah",
    "Samuel",
    "Ella",
    "Joseph",
    "Megan",
    "David",
    "Rachel",
    "Mohammed",
    "Priya",
    "Arjun",
    "Aisha",
    "Rhys",
    "Ffion",
    "Callum",
    "Eilidh",
    "Liam",
    "Niamh",
    "Ciaran",
    "Siobhan",
    "Matthew",
    "Laura",
    "Andrew",
    "Rebecca",
    "Paul",
    "Helen",
    "Simon",
    "Claire",
    "Mark",
    "Sarah",
    "Richard",
    "Joanne",
    "Stephen",
    "Nicola",
    "Imran",
    "Fatima",
    "Kwame",
    "Abena",
    "Tomasz",
    "Katarzyna",
    "Raj",
    "Sunita",
    "Gareth",
    "Bethan",
    "Alistair",
    "Morag",
    "Ben",
    "Zara",
    "Adam",
    "Jasmine",
    "Luke",
    "Holly",
)

SURNAMES: tuple[str, ...] = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Hughes",
    "Edwards",
    "Harrison",
    "Lewis",
    "Morgan",
    "Turner",
    "Hill",
    "Moore",
    "Cooper",
    "Ward",
    "Morris",
    "King",
    "Watson",
    "Baker",
    "Harris",
    "Parker",
    "Bennett",
    "Shaw",
    "Marshall",
    "Ellis",
    "Fletcher",
    "Reid",
    "Campbell",
    "Murray",
    "Stewart",
    "MacDonald",
    "Kaur",
    "Singh",
    "Ahmed",
    "Hussain",
    "Begum",
    "Okafor",
    "Mensah",
    "Nowak",
    "Kowalski",
    "O'Brien",
    "Byrne",
    "Doyle",
    "Gallagher",
    "Pritchard",
    "Llewellyn",
    "Fraser",
    "Holmes",
    "Lawson",
    "Barker",
    "Chapman",
    "Palmer",
    "Atkinson",
    "Dixon",
    "Fox",
    "Hart",
)

# (code, name, description)
ROLES: tuple[tuple[str, str, str], ...] = (
    ("ROLE-NED", "Non-executive Director", "Independent member of the main board"),
    ("ROLE-CEO", "Chief Executive", "Accountable to the board for the whole organisation"),
    ("ROLE-EXEC", "Executive Director", "Leads a business unit and sits on the executive"),
    ("ROLE-DIR", "Director", "Leads a business unit or a group function"),
    ("ROLE-HEAD", "Head of Department", "Runs a department and its business plan"),
    ("ROLE-TL", "Team Leader", "Runs a team day to day"),
    ("ROLE-SRO", "Senior Responsible Owner", "Accountable for a programme or project"),
    ("ROLE-PGM", "Programme Manager", "Runs a programme for its SRO"),
    ("ROLE-PM", "Project Manager", "Runs a project for its board"),
    ("ROLE-BCM", "Business Change Manager", "Embeds change and realises benefits in the business"),
    ("ROLE-BO", "Benefit Owner", "Accountable for realising a benefit"),
    ("ROLE-FBP", "Finance Business Partner", "Finance adviser to a business unit or portfolio"),
    ("ROLE-PMO", "PMO Analyst", "Portfolio office: data, reporting and standards"),
    ("ROLE-ASSURE", "Assurance Lead", "Independent reviewer of delivery confidence"),
    ("ROLE-SEC", "Board Secretary", "Runs the board's business and minutes"),
)


class BusinessUnitSpec(NamedTuple):
    short: str  # used in codes: BU-<code>, WS-<short>-...
    code: str
    name: str
    director_title: str
    # (department code suffix, department name, team names)
    departments: tuple[tuple[str, str, tuple[str, ...]], ...]


BUSINESS_UNITS: tuple[BusinessUnitSpec, ...] = (
    BusinessUnitSpec(
        "RET",
        "RETAIL",
        "Retail & Customer Services",
        "Customer Services Director",
        (
            ("CONTACT", "Contact Centre", ("Inbound Calls", "Digital Channels")),
            ("BILLING", "Billing & Collections", ("Billing Operations", "Collections")),
            ("CX", "Customer Experience", ("Complaints Resolution",)),
        ),
    ),
    BusinessUnitSpec(
        "NET",
        "NETWORK",
        "Network Operations",
        "Network Operations Director",
        (
            (
                "FIELD",
                "Field Operations",
                ("Repair & Maintenance North", "Repair & Maintenance South"),
            ),
            ("CONTROL", "Network Control", ("Control Room",)),
            ("ASSETS", "Asset Management", ("Asset Planning", "Leakage Detection")),
        ),
    ),
    BusinessUnitSpec(
        "WAT",
        "WATER",
        "Water Production",
        "Water Production Director",
        (
            ("TREAT", "Treatment Works", ("Treatment Operations", "Process Engineering")),
            ("QUALITY", "Water Quality", ("Sampling & Laboratory",)),
        ),
    ),
    BusinessUnitSpec(
        "WAS",
        "WASTEWATER",
        "Wastewater Services",
        "Wastewater Director",
        (
            ("SEWER", "Sewer Network", ("Sewer Maintenance", "Pollution Response")),
            ("BIO", "Bioresources", ("Sludge Treatment",)),
        ),
    ),
    BusinessUnitSpec(
        "FIN",
        "FINANCE",
        "Finance",
        "Chief Financial Officer",
        (
            ("CONTROL", "Financial Control", ("Accounts Payable", "Accounts Receivable")),
            ("FPA", "Planning & Reporting", ("Management Accounts",)),
        ),
    ),
    BusinessUnitSpec(
        "PEO",
        "PEOPLE",
        "People & Corporate Services",
        "People Director",
        (
            ("HR", "Human Resources", ("HR Operations", "Learning & Development")),
            ("PROC", "Procurement & Facilities", ("Procurement", "Facilities")),
        ),
    ),
    BusinessUnitSpec(
        "DIG",
        "DIGITAL",
        "Technology & Digital",
        "Chief Information Officer",
        (
            ("ITOPS", "IT Operations", ("Service Desk", "Infrastructure")),
            ("DATA", "Data & Analytics", ("Data Engineering",)),
            ("DELIVERY", "Digital Delivery", ("Solution Architecture", "Software Engineering")),
            ("CYBER", "Cyber Security", ("Security Operations",)),
        ),
    ),
)

# (code, name, description) — ~12 skills; the demo over-allocates the first two in some months
SKILLS: tuple[tuple[str, str, str], ...] = (
    ("SK-DATA", "Data Engineer", "Builds and runs data pipelines and the data platform"),
    ("SK-ARCH", "Solution Architect", "Designs solutions across applications and infrastructure"),
    ("SK-BA", "Business Analyst", "Captures requirements and designs processes"),
    ("SK-PM", "Project Manager", "Plans and controls projects"),
    ("SK-DEV", "Software Engineer", "Builds and configures software"),
    ("SK-TEST", "Test Analyst", "Plans and runs testing"),
    ("SK-CHANGE", "Change Manager", "Prepares the business for change and embeds it"),
    ("SK-FIELD", "Field Technician", "Repairs and maintains network assets on site"),
    ("SK-CIVIL", "Civil Engineer", "Designs and supervises civil works"),
    ("SK-FIN", "Finance Analyst", "Accounting, planning and analysis"),
    ("SK-CSA", "Customer Service Adviser", "Handles customer contacts"),
    ("SK-CYBER", "Cyber Security Specialist", "Protects IT and OT systems"),
)

# Which skills each department's teams supply (department code suffix -> skill codes)
TEAM_SKILLS: dict[str, tuple[str, ...]] = {
    "CONTACT": ("SK-CSA", "SK-BA"),
    "BILLING": ("SK-CSA", "SK-FIN"),
    "CX": ("SK-CSA", "SK-CHANGE"),
    "FIELD": ("SK-FIELD",),
    "CONTROL": ("SK-FIELD", "SK-BA"),
    "ASSETS": ("SK-CIVIL", "SK-FIELD", "SK-DATA"),
    "TREAT": ("SK-CIVIL", "SK-FIELD"),
    "QUALITY": ("SK-BA",),
    "SEWER": ("SK-FIELD", "SK-CIVIL"),
    "BIO": ("SK-CIVIL",),
    "FPA": ("SK-FIN", "SK-BA"),
    "HR": ("SK-CHANGE", "SK-BA"),
    "PROC": ("SK-BA", "SK-PM"),
    "ITOPS": ("SK-DEV", "SK-TEST"),
    "DATA": ("SK-DATA", "SK-ARCH"),
    "DELIVERY": ("SK-ARCH", "SK-DEV", "SK-TEST", "SK-PM"),
    "CYBER": ("SK-CYBER", "SK-ARCH"),
}


class ProgrammeSpec(NamedTuple):
    code: str  # PG-<code>, PRJ-<code>-NNN
    name: str
    portfolio: str  # portfolio key
    bu: str  # business unit short code that owns the change
    objectives: tuple[str, ...]  # objective keys its projects contribute to
    infra: bool  # infrastructure (capex heavy, civil skills) or IT
    projects: tuple[str, ...]
    # (name, category, measure, unit, measure code or "", annual value low, high)
    benefits: tuple[tuple[str, str, str, str, str, float, float], ...]


# (key, code, name, owning business unit short code, description)
PORTFOLIOS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "CUST",
        "PF-CUST",
        "Customer Portfolio",
        "RET",
        "Change that improves how customers are served, billed and metered.",
    ),
    (
        "NET",
        "PF-NET",
        "Network & Assets Portfolio",
        "NET",
        "Change that makes the water and wastewater networks more resilient and efficient.",
    ),
    (
        "ENT",
        "PF-ENT",
        "Enterprise Transformation Portfolio",
        "DIG",
        "Change to the systems, data and security that the whole organisation runs on.",
    ),
)

PROGRAMMES: tuple[ProgrammeSpec, ...] = (
    ProgrammeSpec(
        "CCM",
        "Customer Contact Modernisation",
        "CUST",
        "RET",
        ("O-01",),
        False,
        (
            "Contact Centre Telephony Replacement",
            "CRM Consolidation",
            "Omnichannel Web Chat",
            "Workforce Management System",
            "Knowledge Base Refresh",
            "Complaints Handling Redesign",
        ),
        (
            (
                "Reduced cost to serve per contact",
                "cashable",
                "Cost per contact (GBP)",
                "GBP",
                "CALLS-HANDLED",
                250_000,
                900_000,
            ),
            (
                "Fewer repeat calls",
                "non_cashable",
                "Repeat contacts within 7 days",
                "GBP",
                "",
                80_000,
                300_000,
            ),
            (
                "Higher customer satisfaction",
                "non_financial",
                "Customer satisfaction index",
                "points",
                "",
                3,
                8,
            ),
            (
                "Lower call abandonment",
                "non_financial",
                "Calls abandoned (%)",
                "%",
                "ABANDON-RATE",
                2,
                6,
            ),
        ),
    ),
    ProgrammeSpec(
        "BILL",
        "Billing Transformation",
        "CUST",
        "RET",
        ("O-01", "O-07"),
        False,
        (
            "Billing Platform Migration",
            "Payment Plans Self-Service",
            "Debt Analytics Model",
            "Bill Redesign",
            "Direct Debit Modernisation",
        ),
        (
            (
                "Reduced bad debt write-off",
                "cashable",
                "Bad debt charge (GBP)",
                "GBP",
                "",
                300_000,
                1_200_000,
            ),
            (
                "Fewer billing complaints",
                "non_financial",
                "Billing complaints per 10,000 bills",
                "per 10k",
                "COMPLAINTS",
                5,
                15,
            ),
            (
                "Retired legacy billing licences",
                "cashable",
                "Licence and support cost (GBP)",
                "GBP",
                "",
                150_000,
                500_000,
            ),
        ),
    ),
    ProgrammeSpec(
        "SMART",
        "Smart Metering Rollout",
        "CUST",
        "NET",
        ("O-03",),
        True,
        (
            "Smart Meter Installation Wave 1",
            "Smart Meter Installation Wave 2",
            "Meter Data Management System",
            "Head-End Integration",
            "Installer Workforce Scheduling",
            "Customer Usage Portal",
        ),
        (
            (
                "Meter reading costs avoided",
                "cashable",
                "Meter reading cost (GBP)",
                "GBP",
                "",
                400_000,
                1_500_000,
            ),
            (
                "Customer-side leakage found from smart data",
                "non_financial",
                "Customer-side leakage (Ml/d)",
                "Ml/d",
                "LEAKAGE",
                1,
                4,
            ),
            (
                "Fewer estimated bills",
                "non_cashable",
                "Estimated bills issued",
                "GBP",
                "BILLS-ISSUED",
                60_000,
                200_000,
            ),
        ),
    ),
    ProgrammeSpec(
        "DIGI",
        "Digital Self-Service",
        "CUST",
        "RET",
        ("O-02",),
        False,
        (
            "Customer Account App",
            "Online Move Home",
            "Digital Identity Verification",
            "Self-Service Fault Reporting",
            "Accessibility Uplift",
        ),
        (
            (
                "Contacts moved to digital channels",
                "cashable",
                "Assisted contacts (GBP)",
                "GBP",
                "CALLS-HANDLED",
                200_000,
                800_000,
            ),
            (
                "Digital adoption",
                "non_financial",
                "Share of contacts handled digitally",
                "%",
                "",
                10,
                30,
            ),
        ),
    ),
    ProgrammeSpec(
        "NRES",
        "Network Resilience 2027",
        "NET",
        "NET",
        ("O-05",),
        True,
        (
            "Trunk Main Duplication North",
            "Pumping Station Resilience",
            "Service Reservoir Refurbishment",
            "Network Telemetry Upgrade",
            "Strategic Interconnector East",
            "Critical Spares Stockholding",
        ),
        (
            (
                "Fewer long supply interruptions",
                "non_financial",
                "Supply interruptions over 3 hours",
                "count",
                "SUPPLY-INTERRUPTIONS",
                20,
                60,
            ),
            (
                "Lower reactive repair costs",
                "cashable",
                "Reactive maintenance spend (GBP)",
                "GBP",
                "",
                250_000,
                900_000,
            ),
            (
                "Regulatory penalty avoided",
                "non_cashable",
                "Outcome delivery incentive (GBP)",
                "GBP",
                "",
                500_000,
                2_000_000,
            ),
        ),
    ),
    ProgrammeSpec(
        "LEAK",
        "Leakage Reduction",
        "NET",
        "NET",
        ("O-04",),
        True,
        (
            "District Metered Area Redesign",
            "Pressure Management Phase 2",
            "Satellite Leak Detection",
            "Mains Replacement Batch 2026",
            "Leakage Analytics Platform",
        ),
        (
            ("Leakage reduced", "non_financial", "Leakage (Ml/d)", "Ml/d", "LEAKAGE", 5, 15),
            (
                "Lower treatment and pumping costs",
                "cashable",
                "Power and chemicals (GBP)",
                "GBP",
                "",
                150_000,
                600_000,
            ),
            (
                "Fewer bursts",
                "non_financial",
                "Bursts per 1,000 km of main",
                "per 1000km",
                "",
                5,
                20,
            ),
        ),
    ),
    ProgrammeSpec(
        "TREAT",
        "Treatment Works Upgrade",
        "NET",
        "WAT",
        ("O-05",),
        True,
        (
            "Ashby Treatment Works Upgrade",
            "UV Disinfection Retrofit",
            "Chemical Dosing Automation",
            "Sludge Dewatering Replacement",
            "Works SCADA Modernisation",
        ),
        (
            (
                "Higher water quality compliance",
                "non_financial",
                "Compliance with standards (%)",
                "%",
                "",
                0.02,
                0.08,
            ),
            (
                "Lower chemical consumption",
                "cashable",
                "Chemicals spend (GBP)",
                "GBP",
                "",
                100_000,
                450_000,
            ),
        ),
    ),
    ProgrammeSpec(
        "ERP",
        "Finance & HR Systems Replacement",
        "ENT",
        "FIN",
        ("O-07",),
        False,
        (
            "ERP Core Finance Build",
            "Payroll Migration",
            "Procure-to-Pay Redesign",
            "HR Self-Service Rollout",
            "Legacy Ledger Decommissioning",
            "Finance Reporting Suite",
        ),
        (
            (
                "Faster month-end close",
                "non_cashable",
                "Close effort (GBP equivalent)",
                "GBP",
                "",
                80_000,
                250_000,
            ),
            (
                "Reduced finance headcount cost",
                "cashable",
                "Finance operations cost (GBP)",
                "GBP",
                "",
                300_000,
                1_000_000,
            ),
            (
                "Invoices paid on time",
                "non_financial",
                "Invoices paid within 30 days (%)",
                "%",
                "AP-INVOICES",
                5,
                15,
            ),
        ),
    ),
    ProgrammeSpec(
        "CYBER",
        "Cyber Security Uplift",
        "ENT",
        "DIG",
        ("O-08",),
        False,
        (
            "OT Network Segmentation",
            "Identity & Access Management",
            "Security Operations Centre 24x7",
            "Backup & Recovery Hardening",
            "Supplier Security Assurance",
        ),
        (
            (
                "Lower cyber incident exposure",
                "non_financial",
                "Cyber maturity score",
                "level",
                "",
                1,
                2,
            ),
            (
                "Cyber insurance premium reduced",
                "cashable",
                "Insurance premium (GBP)",
                "GBP",
                "",
                100_000,
                350_000,
            ),
        ),
    ),
    ProgrammeSpec(
        "AUTO",
        "Intelligent Automation",
        "ENT",
        "FIN",
        ("O-07", "O-02"),
        False,
        (
            "Invoice Processing Automation",
            "Field Job Scheduling Optimisation",
            "Robotic Process Automation Hub",
            "Document Capture Service",
        ),
        (
            (
                "Manual processing hours released",
                "non_cashable",
                "Hours of manual processing",
                "GBP",
                "AP-INVOICES",
                100_000,
                400_000,
            ),
            (
                "Contractor costs avoided",
                "cashable",
                "Contractor spend (GBP)",
                "GBP",
                "",
                80_000,
                300_000,
            ),
        ),
    ),
)

# Dis-benefits, attached to the programme whose change causes them
DISBENEFITS: tuple[tuple[str, str, str, str, str], ...] = (
    ("BILL", "Dual running of billing systems", "cashable", "Dual running cost (GBP)", "GBP"),
    (
        "CCM",
        "Temporary rise in call handling time during CRM cut-over",
        "non_financial",
        "Average handling time (s)",
        "s",
    ),
    (
        "SMART",
        "Increased meter data storage and licence costs",
        "cashable",
        "Licence and hosting cost (GBP)",
        "GBP",
    ),
    (
        "ERP",
        "Productivity dip while finance staff learn the new ERP",
        "non_cashable",
        "Lost productive hours (GBP equivalent)",
        "GBP",
    ),
    (
        "CYBER",
        "Extra log-in steps for field staff",
        "non_financial",
        "Minutes lost per technician per day",
        "min",
    ),
)

# Standalone projects under a portfolio (no programme): (portfolio key, name, bu short, role)
# role: "unaligned" (a planted gap: aligned to no OTC), "unfunded" (proposal for O-09, no budget),
# "innovation-C-01"/"innovation-C-02" (innovation activity for a challenge)
STANDALONE_PROJECTS: tuple[tuple[str, str, str, str], ...] = (
    ("ENT", "Operational Data Platform Discovery", "DIG", "unfunded"),
    ("ENT", "Master Data Management Proposal", "DIG", "unfunded"),
    ("NET", "Acoustic Leak Detection Trial", "NET", "innovation-C-01"),
    ("CUST", "AI Call Summarisation Pilot", "RET", "innovation-C-02"),
    ("ENT", "Bristol Office Relocation", "PEO", "unaligned"),
    ("NET", "Fleet Telematics Replacement", "NET", "unaligned"),
    ("ENT", "Intranet Refresh", "PEO", "unaligned"),
    ("CUST", "Print and Post Contract Retender", "RET", "unaligned"),
    ("CUST", "Household Water-Efficiency Retrofit Pilot", "RET", "withdrawn"),
)

PRODUCTS: tuple[tuple[str, str, str, str], ...] = (
    ("PRD-APP", "Northwind Customer App", "RET", "The customer-facing mobile app and its roadmap."),
    (
        "PRD-TARIFF",
        "Smart Time-of-Use Tariff",
        "RET",
        "A water tariff that rewards off-peak use, built on smart meter data.",
    ),
    (
        "PRD-DEVSVC",
        "Developer Services Portal",
        "NET",
        "Online new connections service for housing developers.",
    ),
)

# BAU workstreams: (business unit short, code suffix, name, category, department code suffix)
WORKSTREAMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("RET", "CONTACT", "Contact Centre Operations", "run", "CONTACT"),
    ("RET", "BILLING", "Billing Operations", "run", "BILLING"),
    ("RET", "COLLECT", "Debt Collection", "run", "BILLING"),
    ("RET", "COMPLAINTS", "Complaints Resolution", "run", "CX"),
    ("RET", "METERREAD", "Meter Reading", "run", "BILLING"),
    ("RET", "NHH", "Non-household Retail Accounts", "grow", "CX"),
    ("NET", "FIELD", "Field Repairs & Maintenance", "run", "FIELD"),
    ("NET", "CONTROL", "Network Control Room", "run", "CONTROL"),
    ("NET", "LEAKFIND", "Active Leakage Control", "grow", "ASSETS"),
    ("NET", "MAINS", "Mains Renewal (BAU)", "run", "ASSETS"),
    ("NET", "PRESSURE", "Pressure Management", "run", "CONTROL"),
    ("NET", "CONNECT", "New Connections", "grow", "FIELD"),
    ("WAT", "TREAT", "Treatment Works Operations", "run", "TREAT"),
    ("WAT", "QUALITY", "Sampling & Water Quality", "run", "QUALITY"),
    ("WAT", "RESERVOIR", "Reservoir Maintenance", "run", "TREAT"),
    ("WAT", "ENERGY", "Energy Management", "grow", "TREAT"),
    ("WAS", "SEWER", "Sewer Network Maintenance", "run", "SEWER"),
    ("WAS", "POLLUTION", "Pollution Incident Response", "run", "SEWER"),
    ("WAS", "BIO", "Bioresources Operations", "run", "BIO"),
    ("WAS", "TRADE", "Trade Effluent Services", "grow", "BIO"),
    ("FIN", "AP", "Accounts Payable", "run", "CONTROL"),
    ("FIN", "AR", "Accounts Receivable", "run", "CONTROL"),
    ("FIN", "CLOSE", "Month-end Close & Reporting", "run", "FPA"),
    ("FIN", "PLAN", "Budgeting & Forecasting", "run", "FPA"),
    ("FIN", "TREASURY", "Treasury", "run", "FPA"),
    ("PEO", "PAYROLL", "Payroll", "run", "HR"),
    ("PEO", "RECRUIT", "Recruitment", "run", "HR"),
    ("PEO", "LEARN", "Learning & Development", "run", "HR"),
    ("PEO", "PROC", "Procurement Operations", "run", "PROC"),
    ("PEO", "FAC", "Facilities Management", "run", "PROC"),
    ("PEO", "HS", "Health & Safety", "run", "HR"),
    ("DIG", "SERVICEDESK", "IT Service Desk", "run", "ITOPS"),
    ("DIG", "INFRA", "Infrastructure & Hosting", "run", "ITOPS"),
    ("DIG", "APPS", "Application Support", "run", "DELIVERY"),
    ("DIG", "SOC", "Security Operations", "run", "CYBER"),
    ("DIG", "BI", "Data Management & BI", "run", "DATA"),
    ("DIG", "LICENCE", "Software Licensing", "run", "ITOPS"),
    ("DIG", "AIOPS", "Analytics Services", "grow", "DATA"),
)

# Benefits that emerge inside run: (workstream code suffix, name, category, measure, unit, code)
RUN_BENEFITS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "NET-LEAKFIND",
        "Leakage found by active leakage control",
        "non_financial",
        "Leakage (Ml/d)",
        "Ml/d",
        "LEAKAGE",
    ),
    ("RET-NHH", "Non-household retail margin", "cashable", "Retail margin (GBP)", "GBP", ""),
    (
        "WAT-ENERGY",
        "Energy cost reduction at treatment works",
        "cashable",
        "Energy spend (GBP)",
        "GBP",
        "",
    ),
    (
        "WAS-TRADE",
        "Trade effluent income growth",
        "cashable",
        "Trade effluent income (GBP)",
        "GBP",
        "",
    ),
    ("NET-CONNECT", "New connections income", "cashable", "Connections income (GBP)", "GBP", ""),
    (
        "FIN-AP",
        "Early payment discounts captured",
        "cashable",
        "Discounts captured (GBP)",
        "GBP",
        "AP-INVOICES",
    ),
    (
        "DIG-AIOPS",
        "Analyst time released by self-service reporting",
        "non_cashable",
        "Analyst hours (GBP equivalent)",
        "GBP",
        "",
    ),
)

# OTIGs: (key, kind, name, description)
OTIGS: tuple[tuple[str, str, str, str], ...] = (
    (
        "O-01",
        "opportunity",
        "Smart meter data enables new services",
        "Half-hourly consumption data lets us find leaks on customer pipes and offer new tariffs.",
    ),
    (
        "T-01",
        "threat",
        "Ageing network assets drive supply interruptions",
        "A third of trunk mains are over 80 years old; interruptions and bursts are rising.",
    ),
    (
        "T-02",
        "threat",
        "Cyber attacks on operational technology",
        "Attacks on utilities' control systems have grown; our OT estate is poorly segmented.",
    ),
    (
        "I-01",
        "imperative",
        "Regulatory performance commitments 2025–2030",
        "The price review settlement binds us to leakage, interruption and service targets.",
    ),
    (
        "I-02",
        "imperative",
        "Net zero operational emissions by 2030",
        "The board has committed publicly to net zero operational emissions by 2030.",
    ),
    (
        "G-01",
        "goal",
        "Upper-quartile customer service",
        "To be among the best utilities for customer service by the end of the regulatory period.",
    ),
)

# OTCs. kind, key, title, description, delegated to (portfolio key / business unit short /
# "INNOV"), OTIG keys, priority
OTCS: tuple[tuple[str, str, str, str, str, tuple[str, ...], int], ...] = (
    (
        "objective",
        "O-01",
        "Raise the customer satisfaction index to 85 by March 2028",
        "Modernise contact and billing so customers get it right first time.",
        "CUST",
        ("G-01",),
        1,
    ),
    (
        "objective",
        "O-02",
        "Move 60% of customer contacts to digital self-service by 2028",
        "Give customers the choice to serve themselves online at any hour.",
        "CUST",
        ("G-01", "O-01"),
        2,
    ),
    (
        "objective",
        "O-03",
        "Install 300,000 smart meters by March 2028",
        "Replace mechanical meters in the highest-consumption areas first.",
        "CUST",
        ("O-01", "I-01"),
        2,
    ),
    (
        "objective",
        "O-04",
        "Cut leakage by 15% against the 2025 baseline by March 2028",
        "Meet the leakage performance commitment and protect resources in dry years.",
        "NET",
        ("I-01", "T-01"),
        1,
    ),
    (
        "objective",
        "O-05",
        "Halve supply interruptions over three hours by March 2027",
        "Make the network resilient to single points of failure.",
        "NET",
        ("T-01", "I-01"),
        1,
    ),
    (
        "objective",
        "O-06",
        "Reduce operational carbon emissions by 30% by 2030",
        "Cut emissions from pumping, treatment and fleet on the road to net zero.",
        "NET",
        ("I-02",),
        3,
    ),
    (
        "objective",
        "O-07",
        "Replace end-of-life finance and HR systems by June 2027",
        "Move finance, payroll and HR onto one supported platform.",
        "ENT",
        ("T-02",),
        2,
    ),
    (
        "objective",
        "O-08",
        "Reach cyber maturity level 4 across IT and OT by 2028",
        "Protect control systems and customer data to the standard our regulators expect.",
        "ENT",
        ("T-02",),
        1,
    ),
    (
        "objective",
        "O-09",
        "Establish a single trusted source of operational data",
        "One governed data platform for assets, customers and operations.",
        "ENT",
        ("O-01", "T-01"),
        3,
    ),
    (
        "objective",
        "O-10",
        "Grow non-household retail market share to 12%",
        "Win business customers in the open retail market.",
        "CUST",
        ("O-01",),
        3,
    ),
    (
        "objective",
        "O-11",
        "Launch a water-efficiency retrofit service for households",
        "Offer fitted water-saving devices to households in stressed areas.",
        "CUST",
        ("I-02", "G-01"),
        4,
    ),
    (
        "target",
        "T-01",
        "Answer 80% of calls within 60 seconds",
        "Service level in the contact centre, every month.",
        "RET",
        ("G-01",),
        1,
    ),
    (
        "target",
        "T-02",
        "First-time fix rate of 85% on field jobs",
        "Fix it on the first visit so customers are not left waiting.",
        "NET",
        ("G-01", "T-01"),
        1,
    ),
    (
        "target",
        "T-03",
        "Keep the field work order backlog below 1,200 jobs",
        "A backlog above this level means interruptions last longer.",
        "NET",
        ("T-01",),
        2,
    ),
    (
        "target",
        "T-04",
        "Pay 95% of supplier invoices within 30 days",
        "Prompt payment of suppliers, as the payment code requires.",
        "FIN",
        ("I-01",),
        2,
    ),
    (
        "target",
        "T-05",
        "99.8% availability of customer-facing systems",
        "Keep the app, website and contact systems available.",
        "DIG",
        ("G-01", "T-02"),
        2,
    ),
    (
        "target",
        "T-06",
        "Drinking water compliance of 99.96% at every works",
        "Meet the drinking water standards at each treatment works.",
        "WAT",
        ("I-01",),
        1,
    ),
    (
        "challenge",
        "C-01",
        "Find half of all bursts before customers report them",
        "Use sensors and analytics to detect bursts and leaks early.",
        "INNOV",
        ("T-01", "O-01"),
        2,
    ),
    (
        "challenge",
        "C-02",
        "Use AI to halve after-call work in the contact centre",
        "Summarise and classify calls automatically.",
        "INNOV",
        ("G-01",),
        3,
    ),
    (
        "challenge",
        "C-03",
        "Turn sewage sludge into a revenue stream",
        "Find a commercial use for bioresources beyond land spreading.",
        "INNOV",
        ("I-02",),
        4,
    ),
)

# Key results: OTC key -> (name, unit, baseline, target, direction, trajectory, measure code)
KEY_RESULTS: dict[str, tuple[tuple[str, str, float, float, str, str, str], ...]] = {
    "O-01": (
        ("Customer satisfaction index", "points", 76, 85, "higher", "linear", ""),
        # a rate per 10,000 customers: reported as actuals, not fed by the COMPLAINTS count
        ("Complaints per 10,000 customers", "per 10k", 38, 25, "lower", "linear", ""),
    ),
    "O-02": (("Share of contacts handled digitally", "%", 31, 60, "higher", "back_loaded", ""),),
    "O-03": (("Smart meters installed", "meters", 12_000, 300_000, "higher", "back_loaded", ""),),
    "O-04": (("Leakage", "Ml/d", 182, 155, "lower", "linear", "LEAKAGE"),),
    "O-05": (
        (
            # an annual count, reported as actuals: the SUPPLY-INTERRUPTIONS measure holds
            # monthly counts, which would read as a 95 % fall against the yearly baseline
            "Supply interruptions over 3 hours a year",
            "count",
            140,
            70,
            "lower",
            "front_loaded",
            "",
        ),
    ),
    "O-06": (("Operational emissions", "ktCO2e", 96, 67, "lower", "linear", ""),),
    "O-07": (("Legacy finance and HR systems retired", "systems", 0, 7, "higher", "step", ""),),
    "O-08": (("Cyber maturity level", "level", 2, 4, "higher", "linear", ""),),
    "O-09": (("Critical data sets on the platform", "%", 5, 80, "higher", "back_loaded", ""),),
    "O-10": (("Non-household market share", "%", 8, 12, "higher", "linear", ""),),
    "T-01": (
        ("Calls answered within 60 seconds", "%", 71, 80, "higher", "linear", ""),
        ("Calls handled", "calls", 0, 0, "higher", "linear", "CALLS-HANDLED"),
        ("Call abandonment rate", "%", 7.5, 4, "lower", "linear", "ABANDON-RATE"),
    ),
    "T-02": (("First-time fix rate", "%", 78, 85, "higher", "linear", "FIRST-TIME-FIX"),),
    "T-03": (("Open field work orders", "jobs", 1_650, 1_200, "lower", "front_loaded", "BACKLOG"),),
    "T-04": (("Invoices paid within 30 days", "%", 88, 95, "higher", "linear", "AP-INVOICES"),),
    "T-05": (
        (
            "Customer systems availability",
            "%",
            99.4,
            99.8,
            "higher",
            "linear",
            "SYSTEM-AVAILABILITY",
        ),
    ),
    "T-06": (("Drinking water compliance", "%", 99.93, 99.96, "higher", "linear", ""),),
    "C-01": (
        ("Bursts detected before a customer report", "%", 12, 50, "higher", "back_loaded", ""),
    ),
    "C-02": (("After-call work per call", "s", 95, 48, "lower", "step", ""),),
}

# Management-team KPIs not tied to an OTC: business unit short -> (name, unit, baseline, target,
# direction, measure code)
TEAM_KPIS: dict[str, tuple[tuple[str, str, float, float, str, str], ...]] = {
    "RET": (("Peak queue time", "s", 420, 240, "lower", "PEAK-QUEUE-TIME"),),
    "NET": (("Jobs completed per technician per day", "jobs", 3.1, 3.6, "higher", ""),),
    # an annual count, reported as actuals (the measure holds monthly counts)
    "WAS": (("Pollution incidents a year", "count", 110, 80, "lower", ""),),
    "DIG": (("Priority 1 and 2 incidents", "count", 42, 25, "lower", "IT-INCIDENTS"),),
    "PEO": (("Staff turnover", "%", 14, 10, "lower", ""),),
}

MILESTONES_CHANGE: tuple[str, ...] = (
    "Business case approved",
    "Supplier contract signed",
    "Design complete",
    "Build complete",
    "User acceptance testing complete",
    "Go-live",
    "Handover to operations",
    "Closure report",
)
MILESTONES_INFRA: tuple[str, ...] = (
    "Business case approved",
    "Planning consent granted",
    "Contractor mobilised",
    "Civils complete",
    "Mechanical and electrical complete",
    "Commissioning complete",
    "Asset handed over",
    "Closure report",
)

RISKS: tuple[tuple[str, str], ...] = (
    (
        "Supplier cannot resource the build phase",
        "Weekly resource plan review with the supplier; escalation route agreed.",
    ),
    (
        "Key data engineers leave for better-paid roles",
        "Retention payments for critical staff; knowledge captured in runbooks.",
    ),
    (
        "Legacy data quality worse than assumed",
        "Data cleansing sprint before migration rehearsals.",
    ),
    (
        "Planning consent delayed by objections",
        "Early engagement with the parish council and the planning authority.",
    ),
    (
        "Business not ready to adopt the new process",
        "Change champions in each team; readiness assessment before go-live.",
    ),
    (
        "Integration with the billing platform more complex than estimated",
        "Architecture spike; contingency held at programme level.",
    ),
    ("Inflation in civil works contracts", "Fixed-price lots where possible; monthly cost review."),
    ("Cyber vulnerability found late in testing", "Penetration test moved earlier in the plan."),
    (
        "Operational teams cannot release staff for training",
        "Training scheduled outside peak periods; backfill budget agreed.",
    ),
    (
        "Dry summer diverts field crews to leakage response",
        "Ring-fenced crew for the project; contractor framework call-off.",
    ),
    (
        "Vendor product roadmap changes",
        "Contract clause for continued support; alternative product assessed.",
    ),
    ("Regulatory requirements change mid-delivery", "Regulation team reviews scope quarterly."),
)
ISSUES: tuple[tuple[str, str], ...] = (
    ("Test environment unavailable for three weeks", "Second environment procured."),
    ("Supplier missed the design milestone", "Recovery plan requested within ten days."),
    ("Migration rehearsal failed reconciliation", "Root-cause analysis under way."),
    ("Site access refused by landowner", "Alternative route being surveyed."),
    ("Budget code set up late; costs sitting in suspense", "Finance correcting the journals."),
    ("Lead business analyst on long-term sick leave", "Interim cover from the framework."),
)
ACTIONS: tuple[str, ...] = (
    "Produce a re-baselined plan for the board",
    "Confirm resource release with the head of department",
    "Update the benefits realisation plan",
    "Agree the data migration approach with finance",
    "Circulate the go-live readiness checklist",
    "Review contingency drawdown with the finance business partner",
    "Schedule the gate review with assurance",
    "Refresh the stakeholder engagement plan",
)
DECISIONS: tuple[str, ...] = (
    "Proceed with phased go-live rather than big bang",
    "Use the framework contractor for civils",
    "Defer the reporting module to release 2",
    "Accept the supplier's revised milestone dates",
    "Fund additional test resource from contingency",
)
ASSUMPTIONS: tuple[str, ...] = (
    "Operational staff available for testing two days a week",
    "The supplier's standard product meets 80% of requirements without customisation",
    "Planning consent granted under permitted development rights",
    "Legacy systems stay supported until the end of the migration",
)
NODE_RISKS: tuple[tuple[str, str], ...] = (
    (
        "Portfolio over-committed on data and architecture skills",
        "Prioritisation of the data pipeline at the next progress group.",
    ),
    (
        "Funding envelope for next year not yet agreed",
        "Investment committee to settle envelopes before the budget round.",
    ),
    (
        "Benefits realisation not tracked after project closure",
        "Benefit owners report quarterly to their management team.",
    ),
    ("Too many projects starting at once", "Front-door gating by the portfolio progress group."),
)

NARRATIVES: dict[str, tuple[str, ...]] = {
    "green": (
        "On track. {milestone} achieved as planned and spend is in line with forecast.",
        "Good progress this period; no exceptions to report. Next: {milestone}.",
        "Delivery on plan and within budget. Stakeholders engaged; risks under control.",
    ),
    "amber/green": (
        "Broadly on track. Minor slippage on {milestone} recoverable within tolerance.",
        "Progressing well; watching supplier resourcing ahead of {milestone}.",
        "Within tolerance. Small cost pressure being absorbed from contingency.",
    ),
    "amber": (
        "{milestone} is {slip_weeks} weeks behind plan; recovery actions agreed with the "
        "supplier. Forecast cost {cost_pct}% above budget.",
        "Resourcing gaps in {skill} are slowing delivery; forecast finish moved by {slip_weeks} "
        "weeks. Board asked to note.",
        "Scope pressure from the business; change control in place. Cost forecast {cost_pct}% "
        "over budget.",
    ),
    "amber/red": (
        "Significant slippage: {milestone} now {slip_weeks} weeks late and cost forecast "
        "{cost_pct}% over budget. Exception report to follow.",
        "Delivery at risk. Supplier performance remains poor; a recovery plan goes to the "
        "board next month.",
    ),
    "red": (
        "Exception: forecast finish {slip_weeks} weeks beyond baseline and cost {cost_pct}% over "
        "budget, outside tolerance. Re-plan and revised business case requested.",
        "Red: {milestone} missed and no credible recovery plan yet. Escalated to the "
        "sponsoring board for a decision on scope.",
    ),
}
