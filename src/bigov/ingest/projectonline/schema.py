"""The published ``ProjectData`` reporting schema of Project Online / Project Server, as far as the
migration reads it: entity set names, their key, and the standard properties with their types.

The names are Microsoft's (``/_api/ProjectData/$metadata``, the ``ReportingData`` schema). A
property of ``Projects``, ``Tasks`` or ``Resources`` that is **not** listed here is an enterprise
custom field (PWA publishes those under their display name with blanks and punctuation removed,
e.g. "Strategic Theme" → ``StrategicTheme``); the migration maps those through the PMO's YAML and
reports the ones left unmapped.

Types: ``guid``, ``text``, ``date`` (Edm.DateTime), ``decimal`` (Edm.Decimal: money, hours,
weights), ``int`` and ``bool``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PropType = str  # "guid" | "text" | "date" | "decimal" | "int" | "bool"


@dataclass(frozen=True)
class EntitySet:
    """One entity set of the feed: its name, key properties and standard properties."""

    name: str
    key: tuple[str, ...]
    properties: dict[str, PropType]
    # Extra spellings seen in exports from PWA views and Excel (the header, normalised by
    # :func:`header_key`, → the property).
    aliases: dict[str, str] = field(default_factory=dict)
    has_custom_fields: bool = False


def _props(spec: str) -> dict[str, PropType]:
    """``"Name:type Name:type ..."`` → {name: type}."""
    out: dict[str, PropType] = {}
    for item in spec.split():
        name, _, kind = item.partition(":")
        out[name] = kind or "text"
    return out


def header_key(header: str) -> str:
    """A header as the migration compares it: letters and digits only, case folded.

    ``ProjectName``, ``Project Name``, ``project_name`` and ``Projects.ProjectName`` (Power
    Query's expanded-column prefix) all give ``projectname``.
    """
    text = str(header).replace("\ufeff", "").strip()
    if "." in text and not text.startswith("."):
        text = text.rsplit(".", 1)[1] or text
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


_PROJECTS = _props(
    """
    ProjectId:guid ProjectName ProjectOwnerName ProjectOwnerId:guid ProjectManagerName
    ProjectAuthorName ProjectTitle ProjectSubject ProjectKeywords ProjectCompanyName
    ProjectCategoryName ProjectDescription ProjectIdentifier ProjectType:int ParentProjectId:guid
    EnterpriseProjectTypeId:guid EnterpriseProjectTypeName EnterpriseProjectTypeDescription
    EnterpriseProjectTypeIsDefault:bool ProjectDepartments
    ProjectStartDate:date ProjectFinishDate:date ProjectBaselineStartDate:date
    ProjectBaselineFinishDate:date ProjectActualStartDate:date ProjectActualFinishDate:date
    ProjectStatusDate:date ProjectEarlyStart:date ProjectEarlyFinish:date ProjectLateStart:date
    ProjectLateFinish:date ProjectCreatedDate:date ProjectModifiedDate:date
    ProjectLastPublishedDate:date ProjectResourcePlanWork:decimal
    ProjectCost:decimal ProjectActualCost:decimal ProjectBaselineCost:decimal
    ProjectRemainingCost:decimal ProjectFixedCost:decimal ProjectBudgetCost:decimal
    ProjectOvertimeCost:decimal ProjectActualOvertimeCost:decimal ProjectRegularCost:decimal
    ProjectActualRegularCost:decimal ProjectRemainingOvertimeCost:decimal
    ProjectRemainingRegularCost:decimal ProjectCostVariance:decimal
    ProjectWork:decimal ProjectActualWork:decimal ProjectBaselineWork:decimal
    ProjectRemainingWork:decimal ProjectBudgetWork:decimal ProjectOvertimeWork:decimal
    ProjectActualOvertimeWork:decimal ProjectRegularWork:decimal ProjectActualRegularWork:decimal
    ProjectRemainingOvertimeWork:decimal ProjectRemainingRegularWork:decimal
    ProjectWorkVariance:decimal ProjectDuration:decimal ProjectActualDuration:decimal
    ProjectRemainingDuration:decimal ProjectDurationVariance:decimal
    ProjectCalendarDuration:decimal ProjectStartVariance:decimal ProjectFinishVariance:decimal
    ProjectPercentCompleted:int ProjectPercentWorkCompleted:int ProjectCurrency
    ProjectACWP:decimal ProjectBCWP:decimal ProjectBCWS:decimal ProjectCPI:decimal
    ProjectSPI:decimal ProjectCV:decimal ProjectCVP:decimal ProjectSV:decimal ProjectSVP:decimal
    ProjectEAC:decimal ProjectVAC:decimal ProjectTCPI:decimal
    ProjectCalculationsAreStale:bool ProjectEarnedValueIsStale:bool
    ProjectEnterpriseFeatures:bool ProjectTimephased ProjectWorkspaceInternalUrl
    OptimizerCommitDate:date OptimizerDecisionID:guid OptimizerDecisionName
    OptimizerDecisionAliasLookupTableId:guid OptimizerDecisionAliasLookupTableValueId:guid
    OptimizerSolutionName PlannerCommitDate:date PlannerDecisionID:guid PlannerDecisionName
    PlannerDecisionAliasLookupTableId:guid PlannerDecisionAliasLookupTableValueId:guid
    PlannerEndDate:date PlannerSolutionName PlannerStartDate:date
    ResourcePlanUtilizationDate:date ResourcePlanUtilizationType:int
    WorkflowCreatedDate:date WorkflowError WorkflowErrorResponseCode:int
    WorkflowInstanceId:guid WorkflowOwnerId:guid WorkflowOwnerName
    """
)

_TASKS = _props(
    """
    ProjectId:guid TaskId:guid ProjectName TaskName TaskIndex:int TaskOutlineLevel:int
    TaskOutlineNumber TaskWBS TaskParentTaskId:guid ParentTaskName TaskIsMilestone:bool
    TaskIsSummary:bool TaskIsProjectSummary:bool TaskIsActive:bool TaskIsCritical:bool
    TaskIsMarked:bool TaskIsOverallocated:bool TaskIsManuallyScheduled:bool
    TaskStartDate:date TaskFinishDate:date TaskBaselineStartDate:date TaskBaselineFinishDate:date
    TaskActualStartDate:date TaskActualFinishDate:date TaskDeadline:date TaskCreatedDate:date
    TaskModifiedDate:date TaskStatusManagerUID:guid TaskPercentCompleted:int
    TaskPercentWorkCompleted:int TaskPhysicalPercentCompleted:int TaskPriority:int
    TaskCost:decimal TaskActualCost:decimal TaskBaselineCost:decimal TaskRemainingCost:decimal
    TaskFixedCost:decimal TaskWork:decimal TaskActualWork:decimal TaskBaselineWork:decimal
    TaskRemainingWork:decimal TaskDuration:decimal TaskActualDuration:decimal
    TaskRemainingDuration:decimal TaskHyperLinkAddress TaskHyperLinkFriendlyName
    """
)

_ASSIGNMENTS = _props(
    """
    AssignmentId:guid ProjectId:guid TaskId:guid ResourceId:guid ProjectName TaskName
    ResourceName AssignmentStartDate:date AssignmentFinishDate:date
    AssignmentActualStartDate:date AssignmentActualFinishDate:date
    AssignmentBaselineStartDate:date AssignmentBaselineFinishDate:date
    AssignmentWork:decimal AssignmentActualWork:decimal AssignmentBaselineWork:decimal
    AssignmentRemainingWork:decimal AssignmentCost:decimal AssignmentActualCost:decimal
    AssignmentBaselineCost:decimal AssignmentRemainingCost:decimal
    AssignmentPercentWorkCompleted:int
    AssignmentType:int TypeDescription AssignmentIsPublished:bool AssignmentIsOverallocated:bool
    AssignmentBookingId:int AssignmentBookingName AssignmentCreatedDate:date
    AssignmentModifiedDate:date
    """
)

_TIMEPHASED = _props(
    """
    ProjectId:guid AssignmentId:guid TimeByDay:date TaskId:guid ResourceId:guid ProjectName
    TaskName ResourceName FiscalPeriodId:guid TaskIsActive:bool AssignmentWork:decimal
    AssignmentActualWork:decimal AssignmentBaselineWork:decimal AssignmentRemainingWork:decimal
    AssignmentOvertimeWork:decimal AssignmentActualOvertimeWork:decimal
    AssignmentResourcePlanWork:decimal AssignmentCost:decimal AssignmentActualCost:decimal
    AssignmentBaselineCost:decimal AssignmentRemainingCost:decimal AssignmentBudgetCost:decimal
    AssignmentBudgetWork:decimal AssignmentCombinedWork:decimal AssignmentMaterialWork:decimal
    AssignmentMaterialActualWork:decimal
    """
)

_RESOURCES = _props(
    """
    ResourceId:guid ResourceName ResourceType:int TypeName TypeDescription ResourceIsGeneric:bool
    ResourceIsActive:bool ResourceIsTeam:bool ResourceCanLevel:bool ResourceEmailAddress
    ResourceGroup ResourceCode ResourceInitials ResourceCostCenter ResourceDepartments RBS
    ResourceMaxUnits:decimal ResourceBaseCapacity:decimal ResourceStandardRate:decimal
    ResourceOvertimeRate:decimal ResourceCostPerUse:decimal ResourceBookingType:int
    ResourceCreatedDate:date ResourceModifiedDate:date ResourceEarliestAvailableFrom:date
    ResourceLatestAvailableTo:date ResourceHyperlink ResourceHyperlinkName ResourceStatusId:guid
    ResourceStatusName ResourceTimesheetManageId:guid ResourceNTAccount ResourceWorkgroup:int
    """
)

_RESOURCE_TIMEPHASED = _props(
    """
    ResourceId:guid TimeByDay:date ResourceName BaseCapacity:decimal Capacity:decimal
    FiscalPeriodId:guid
    """
)

_DRIVERS = _props(
    """
    BusinessDriverId:guid BusinessDriverName BusinessDriverDescription BusinessDriverIsActive:bool
    BusinessDriverCreatedDate:date BusinessDriverModifiedDate:date CreatedByResourceId:guid
    CreatedByResourceName ModifiedByResourceId:guid ModifiedByResourceName
    ImpactDescriptionExtreme ImpactDescriptionLow ImpactDescriptionModerate
    ImpactDescriptionNone ImpactDescriptionStrong
    """
)

_PRIORITIZATIONS = _props(
    """
    PrioritizationId:guid PrioritizationName PrioritizationDescription PrioritizationIsManual:bool
    PrioritizationConsistencyRatio:decimal PrioritizationCreatedDate:date
    PrioritizationModifiedDate:date DepartmentId:guid DepartmentName CreatedByResourceId:guid
    CreatedByResourceName ModifiedByResourceId:guid ModifiedByResourceName
    """
)

_PRIORITIZATION_DRIVERS = _props(
    """
    PrioritizationId:guid BusinessDriverId:guid BusinessDriverName BusinessDriverPriority:decimal
    PrioritizationName
    """
)

_DRIVER_RELATIONS = _props(
    """
    PrioritizationId:guid BusinessDriver1Id:guid BusinessDriver1Name BusinessDriver2Id:guid
    BusinessDriver2Name PrioritizationName RelationValue
    """
)

_ANALYSES = _props(
    """
    AnalysisId:guid AnalysisName AnalysisDescription AnalysisType:int PrioritizationId:guid
    PrioritizationName PrioritizationType:int PlanningHorizonStartDate:date
    PlanningHorizonEndDate:date DepartmentId:guid DepartmentName CreatedDate:date
    ModifiedDate:date CreatedByResourceId:guid CreatedByResourceName ModifiedByResourceId:guid
    ModifiedByResourceName TimeScale:int BookingType:int RoleCustomFieldId:guid
    RoleCustomFieldName HardConstraintCustomFieldId:guid HardConstraintCustomFieldName
    ForcedInAliasLookupTableId:guid ForcedInAliasLookupTableName
    ForcedOutAliasLookupTableId:guid ForcedOutAliasLookupTableName
    AlternateProjectStartDateCustomFieldId:guid AlternateProjectStartDateCustomFieldName
    AlternateProjectEndDateCustomFieldId:guid AlternateProjectEndDateCustomFieldName
    UseAlternateProjectDatesForResourcePlans:bool FilterResourcesByDepartment:bool
    FilterResourcesByRBS:bool FilterResourcesByRBSValueText
    """
)

_ANALYSIS_PROJECTS = _props(
    """
    AnalysisId:guid ProjectId:guid AnalysisName ProjectName Priority:decimal
    AbsolutePriority:decimal Duration:decimal Locked:bool OriginalStartDate:date
    OriginalEndDate:date StartDate:date EndDate:date StartNoEarlierThan:date
    FinishNoLaterThan:date
    """
)

_ISSUES = _props(
    """
    IssueId:guid ProjectId:guid ProjectName Title Status Priority Category Owner
    AssignedToResource DueDate:date CreatedDate:date ModifiedDate:date Discussion Resolution
    CreatedByResource ModifiedByResource NumberOfAttachments:int IsFolder:bool
    ItemRelativeUrlPath
    """
)

_RISKS = _props(
    """
    RiskId:guid ProjectId:guid ProjectName Title Status Category Owner AssignedToResource
    DueDate:date CreatedDate:date ModifiedDate:date Probability:decimal Impact:decimal
    Exposure:decimal Cost:decimal CostExposure:decimal Description MitigationPlan
    ContingencyPlan TriggerDescription Trigger CreatedByResource ModifiedByResource
    NumberOfAttachments:int IsFolder:bool ItemRelativeUrlPath
    """
)

# Headers PWA's own views write when a list is exported to Excel ("Export to Excel" from the
# Project Center, the Resource Center, a project site's Risks list).
_PROJECT_VIEW_ALIASES = {
    "project": "ProjectName",
    "owner": "ProjectOwnerName",
    "projectowner": "ProjectOwnerName",
    "start": "ProjectStartDate",
    "finish": "ProjectFinishDate",
    "baselinestart": "ProjectBaselineStartDate",
    "baselinefinish": "ProjectBaselineFinishDate",
    "actualstart": "ProjectActualStartDate",
    "actualfinish": "ProjectActualFinishDate",
    "cost": "ProjectCost",
    "actualcost": "ProjectActualCost",
    "baselinecost": "ProjectBaselineCost",
    "work": "ProjectWork",
    "actualwork": "ProjectActualWork",
    "complete": "ProjectPercentCompleted",
    "percentcomplete": "ProjectPercentCompleted",
    "enterpriseprojecttype": "EnterpriseProjectTypeName",
    "projecttype": "EnterpriseProjectTypeName",
    "statusdate": "ProjectStatusDate",
}

ENTITY_SETS: dict[str, EntitySet] = {
    e.name: e
    for e in (
        EntitySet(
            "Projects",
            ("ProjectId",),
            _PROJECTS,
            aliases=_PROJECT_VIEW_ALIASES,
            has_custom_fields=True,
        ),
        EntitySet("Tasks", ("ProjectId", "TaskId"), _TASKS, has_custom_fields=True),
        EntitySet("Assignments", ("ProjectId", "AssignmentId"), _ASSIGNMENTS),
        EntitySet(
            "AssignmentTimephasedDataSet", ("ProjectId", "AssignmentId", "TimeByDay"), _TIMEPHASED
        ),
        EntitySet("Resources", ("ResourceId",), _RESOURCES, has_custom_fields=True),
        EntitySet("ResourceTimephasedDataSet", ("ResourceId", "TimeByDay"), _RESOURCE_TIMEPHASED),
        EntitySet("BusinessDrivers", ("BusinessDriverId",), _DRIVERS),
        EntitySet("Prioritizations", ("PrioritizationId",), _PRIORITIZATIONS),
        EntitySet(
            "PrioritizationDrivers",
            ("PrioritizationId", "BusinessDriverId"),
            _PRIORITIZATION_DRIVERS,
        ),
        EntitySet(
            "PrioritizationDriverRelations",
            ("PrioritizationId", "BusinessDriver1Id", "BusinessDriver2Id"),
            _DRIVER_RELATIONS,
        ),
        EntitySet("PortfolioAnalyses", ("AnalysisId",), _ANALYSES),
        EntitySet("PortfolioAnalysisProjects", ("AnalysisId", "ProjectId"), _ANALYSIS_PROJECTS),
        EntitySet("Issues", ("ProjectId", "IssueId"), _ISSUES),
        EntitySet("Risks", ("ProjectId", "RiskId"), _RISKS),
    )
}

# The OData entity type of each set (``__metadata.type`` = ``ReportingData.<type>``), used to
# recognise a page saved under any file name.
ENTITY_TYPES: dict[str, str] = {
    "project": "Projects",
    "task": "Tasks",
    "assignment": "Assignments",
    "assignmenttimephaseddata": "AssignmentTimephasedDataSet",
    "resource": "Resources",
    "resourcetimephaseddata": "ResourceTimephasedDataSet",
    "businessdriver": "BusinessDrivers",
    "prioritization": "Prioritizations",
    "prioritizationdriver": "PrioritizationDrivers",
    "prioritizationdriverrelation": "PrioritizationDriverRelations",
    "portfolioanalysis": "PortfolioAnalyses",
    "portfolioanalysisproject": "PortfolioAnalysisProjects",
    "issue": "Issues",
    "risk": "Risks",
}


def entity_set_for(name: str) -> str | None:
    """The entity set a file or sheet name stands for (``Projects``, ``projects-page2``,
    ``AssignmentTimephasedDataSet (3)``, ``Project``), or None."""
    key = header_key(name.rsplit("/", 1)[-1])
    key = re.sub(r"(page)?\d+$", "", key)  # page suffixes: Projects_2, Projects-page002
    key = re.sub(r"page$", "", key)
    by_length = sorted(ENTITY_SETS, key=len, reverse=True)
    for set_name in by_length:
        if key == header_key(set_name):
            return set_name
    if key in ENTITY_TYPES:
        return ENTITY_TYPES[key]
    # "ProjectData - Projects", "pwa_Risks", "Tasks export": the set's name at either end
    for set_name in by_length:
        set_key = header_key(set_name)
        if len(key) > len(set_key) and (key.endswith(set_key) or key.startswith(set_key)):
            return set_name
    return None


def canonical_headers(set_name: str, headers: list[str]) -> dict[str, str]:
    """{header as in the file: property name}: standard properties by their normalised name (or
    a view alias); any other header keeps its own text (a custom field)."""
    entity = ENTITY_SETS[set_name]
    by_key = {header_key(p): p for p in entity.properties}
    out: dict[str, str] = {}
    for header in headers:
        key = header_key(header)
        if not key:
            continue
        prop = by_key.get(key) or entity.aliases.get(key)
        out[header] = prop if prop else str(header).replace("\ufeff", "").strip()
    return out
