package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/plans"
	"github.com/fieldvisit/fieldvisit/internal/printforms"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/web"
	"github.com/fieldvisit/fieldvisit/openapi/docs"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// ReadyCheck is one dependency /readyz reports on.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// ImportFunc runs an uploaded 台账 file (importer.Import bound to a store).
type ImportFunc func(ctx context.Context, r io.Reader, opt importer.Options) (importer.Report, error)

// ExportRegisterFunc builds a register download (importer.Export bound to
// a store).
type ExportRegisterFunc func(ctx context.Context, q importer.ExportQuery) (importer.Download, error)

// Deps is everything the transport calls; cmd/fieldvisit builds it.
type Deps struct {
	Auth       *auth.Service
	Registry   *registry.Service
	Sync       *fvsync.Service
	Photos     *photos.Service
	Compliance *compliance.Service
	Inspect    *inspect.Service
	ItemLedger *itemledger.Service
	Plans      *plans.Service
	Import     ImportFunc
	Ready      []ReadyCheck
	// Draining reports that the process is stopping: /readyz answers 503
	// (status draining) whatever the checks say, so a load balancer stops
	// sending before the listener closes. Nil never drains.
	Draining func() bool
	Log      *slog.Logger
	Metrics  prometheus.Registerer
	Gatherer prometheus.Gatherer
	Spec     []byte // openapi.yaml
	Now      func() time.Time
	// TrustedProxies are the addresses (IPs or CIDRs) of the reverse
	// proxies whose X-Forwarded-For and X-Real-IP headers name the client.
	// Empty trusts none: any peer could write those headers, and the login
	// throttle and the audit log would believe a forged address.
	TrustedProxies []string
	// PublicURL is the address people reach the server at
	// (https://fieldvisit.example.gov.cn, no trailing slash): the links
	// written into downloads. Empty takes each request's own host.
	PublicURL string
	Bodies    BodyLimits // zero fields take the defaults
	// Console is the web console (internal/web), mounted at /ui/; nil
	// serves none.
	Console http.Handler
	// FieldApp is the cadres' offline field app (internal/fieldapp),
	// mounted at /app/; nil serves none.
	FieldApp http.Handler

	// DeviceHealth records what each sync shows of the phone and lists it
	// (GET /api/v1/devices); nil records nothing.
	DeviceHealth *devicehealth.Service

	// Casework keeps income accounts, exit standards and candidates, and
	// the exit, identification and removal procedures.
	Casework *casework.Service
	// PrintForms answers the printed forms as PDF (and a village's as ZIP).
	PrintForms *printforms.Service
	// Adjustment keeps the yearly adjustment round's batches (动态调整).
	Adjustment *adjustment.Service
	// ExportRegister writes the household register as the import reads
	// it (GET /api/v1/exports/register).
	ExportRegister ExportRegisterFunc
}

// handlers holds the dependencies the route handlers use.
type handlers struct {
	Deps
}

// New builds the HTTP handler with every route.
func New(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		r := prometheus.NewRegistry()
		d.Metrics, d.Gatherer = r, r
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		// Config.validate refuses bad addresses; should one get here, trust
		// no proxy rather than every one.
		d.Log.Error("trusted proxies refused; trusting none", "error", err.Error())
		_ = r.SetTrustedProxies(nil)
	}
	h := &handlers{Deps: d}
	m := newMetrics(d.Metrics)
	r.Use(withRequestID, recoverProblem(d.Log), observe(d.Log, m), securityHeaders, bodyDeadline(d.Bodies.withDefaults(), m))
	r.NoRoute(func(c *gin.Context) { writeError(c, domain.NotFound("route")) })
	r.NoMethod(func(c *gin.Context) {
		writeError(c, &domain.Error{Code: codeMethod, Message: "method not allowed on this route", MessageZH: "该地址不支持此请求方法"})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", h.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))
	r.GET("/openapi.yaml", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/yaml", d.Spec)
	})
	docsHandler := gin.WrapH(docs.Handler("/docs", "/openapi.yaml"))
	r.GET("/docs", docsHandler)
	r.GET("/docs/*asset", docsHandler)
	r.HEAD("/docs", docsHandler)
	r.HEAD("/docs/*asset", docsHandler)

	if d.Console != nil {
		// The console answers everything under /ui/ itself (its own
		// sessions, CSRF checks and security headers); it is told the
		// request's id and the client's address as this router reads
		// them behind trusted proxies.
		console := func(c *gin.Context) {
			ctx := web.WithCaller(c.Request.Context(), web.Caller{RequestID: requestID(c), ClientIP: c.ClientIP()})
			d.Console.ServeHTTP(c.Writer, c.Request.WithContext(ctx))
		}
		r.Any("/ui", console)
		r.Any("/ui/*path", console)
	}
	if d.FieldApp != nil {
		// The field app is static files: it answers everything under /app/
		// itself (its caching, CSP and service worker) and talks to the
		// API below with Bearer tokens like any phone.
		fieldApp := gin.WrapH(d.FieldApp)
		r.Any("/app", fieldApp)
		r.Any("/app/*path", fieldApp)
	}

	known := queryNames{}
	if len(d.Spec) > 0 {
		var err error
		if known, err = readQueryNames(d.Spec); err != nil {
			// The embedded document is checked by the tests; should a broken
			// one get here, the routes keep their own parameter checks.
			d.Log.Error("query parameters left unchecked", "error", err.Error())
			known = queryNames{}
		}
	}
	api := r.Group("/api/v1", strictQuery(known))
	api.POST("/auth/login", h.login)
	api.POST("/auth/refresh", h.refresh)
	api.POST("/auth/logout", h.logout)
	api.GET("/vocabularies", h.vocabularies)

	a := api.Group("", h.authenticate)
	// A role that may never use a writing route is refused (403) before
	// its body is read: it learns nothing of what the route validates
	// (BFLA before input). The services check the same rules, and the
	// object-level ones, again.
	admins := only(domain.RoleAdmin)
	managers := only(domain.RoleAdmin, domain.RoleSupervisor)
	inspectors := only(domain.RoleInspector)
	notCadres := only(domain.RoleAdmin, domain.RoleSupervisor, domain.RoleInspector)
	notInspectors := only(domain.RoleAdmin, domain.RoleSupervisor, domain.RoleCadre)
	a.GET("/me", h.me)

	a.GET("/regions", h.listRegions)
	a.POST("/regions", admins, h.createRegion)
	a.GET("/regions/:id", h.getRegion)
	a.PATCH("/regions/:id", managers, h.updateRegion)

	a.GET("/households", h.listHouseholds)
	a.POST("/households", managers, h.createHousehold)
	a.GET("/households/:id", h.getHousehold)
	a.PATCH("/households/:id", managers, h.updateHousehold)
	a.POST("/households/:id/status", managers, h.changeStatus)
	a.POST("/households/:id/poverty-type", managers, h.changePovertyType)
	a.GET("/households/:id/income-accounts", h.listIncomeAccounts)
	a.GET("/households/:id/income-accounts/:year", h.getIncomeAccount)
	a.PUT("/households/:id/income-accounts/:year", notInspectors, h.putIncomeAccount)
	a.POST("/households/:id/procedures", managers, h.startProcedure)
	a.GET("/procedures/:id", h.getProcedure)
	a.POST("/procedures/:id/steps", managers, h.recordStep)
	a.GET("/exit-standards/:year", h.getExitStandard)
	a.PUT("/exit-standards/:year", admins, h.putExitStandard)
	a.GET("/exit-candidates", h.exitCandidates)
	a.POST("/adjustment-batches", managers, h.createAdjustmentBatch)
	a.GET("/adjustment-batches", h.listAdjustmentBatches)
	a.GET("/adjustment-batches/:id", h.getAdjustmentBatch)
	a.POST("/adjustment-batches/:id/approve", noBody, h.approveAdjustmentBatch)
	a.POST("/adjustment-batches/:id/close", noBody, h.closeAdjustmentBatch)
	a.POST("/adjustment-batches/:id/imports", h.importAdjustmentItems)
	a.POST("/adjustment-batches/:id/items/:item_id/approve", noBody, h.approveAdjustmentItem)
	a.POST("/adjustment-batches/:id/items/:item_id/reject", managers, h.rejectAdjustmentItem)
	a.GET("/village-exit-standards/:year", h.getVillageExitStandard)
	a.PUT("/village-exit-standards/:year", admins, h.putVillageExitStandard)
	a.GET("/village-exit-candidates", h.villageExitCandidates)
	a.GET("/villages/:id/exit-records/:year", h.getVillageRecord)
	a.PUT("/villages/:id/exit-records/:year", managers, h.putVillageRecord)
	a.POST("/villages/:id/procedures", managers, h.startVillageProcedure)
	a.GET("/villages/:id/procedures", h.listVillageProcedures)
	a.GET("/households/:id/members", h.listMembers)
	a.POST("/households/:id/members", managers, h.createMember)
	a.GET("/households/:id/members/:member_id", h.getMember)
	a.PATCH("/households/:id/members/:member_id", managers, h.updateMember)
	a.DELETE("/households/:id/members/:member_id", h.deleteMember)

	a.GET("/units", h.listUnits)
	a.POST("/units", managers, h.createUnit)
	a.GET("/units/:id", h.getUnit)
	a.POST("/units/:id/assignments", managers, h.assignUnit)

	a.GET("/users", h.listUsers)
	a.POST("/users", managers, h.createUser)
	a.GET("/users/:id", h.getUser)
	a.PATCH("/users/:id", managers, h.updateUser)
	a.PUT("/users/:id/password", h.setPassword)
	a.GET("/users/:id/devices", h.listDevices)
	a.POST("/users/:id/devices/:device_id/revoke", noBody, h.revokeDevice)
	a.GET("/devices", h.listDeviceHealth)

	a.GET("/pairings", h.listPairings)
	a.POST("/pairings", managers, h.createPairing)
	a.GET("/pairings/:id", h.getPairing)
	a.POST("/pairings/:id/end", managers, h.endPairing)

	a.POST("/imports", bodyAsSent, uploadBody, h.importFile)
	a.GET("/audit-log", h.listAudit)

	// A batch of visits with GPS tracks may be megabytes: an upload. Pull
	// pages, snapshots, reports and 台账 downloads are the big answers, and
	// go gzipped to whoever accepts it (compressed); a push body may come
	// gzipped too (readBody).
	a.POST("/sync/push", uploadBody, h.push)
	a.GET("/sync/pull", compressed, h.pull)
	a.GET("/sync/snapshot", compressed, h.snapshot)
	a.GET("/visits", h.listVisits)
	a.GET("/visits/:id", h.getVisit)
	a.GET("/conflicts", h.listConflicts)
	// The upload checks the token here and reads the account itself, with
	// its first query (PutAs). Uploads go on the progress rule
	// only once the token is good: a stranger's body stays on the short
	// JSON clock while its 401 is answered.
	api.PUT("/photos/:id", h.authenticateToken, bodyAsSent, uploadBody, h.putPhoto)
	a.GET("/photos/:id", h.getPhoto)
	a.GET("/photos/:id/content", h.photoContent)
	a.GET("/photos/:id/thumbnail", h.photoThumbnail)
	a.POST("/photo-uploads", h.startUpload)
	a.GET("/photo-uploads/:id", h.uploadStatus)
	a.HEAD("/photo-uploads/:id", h.uploadStatus)
	a.PATCH("/photo-uploads/:id", bodyAsSent, uploadBody, h.appendChunk)
	a.POST("/photo-uploads/:id/complete", noBody, h.completeUpload)
	a.POST("/conflicts/:id/resolve", managers, h.resolveConflict)

	a.GET("/rule-profiles", h.listRuleProfiles)
	a.GET("/rule-profiles/:code", h.getRuleProfile)
	a.PUT("/rule-profiles/:code", admins, h.putRuleProfile)
	a.GET("/regions/:id/rule-profile", h.getRegionRuleProfile)
	a.PUT("/regions/:id/rule-profile", admins, h.putRegionRuleProfile)
	a.GET("/worklist", compressed, h.worklist)
	a.GET("/households/:id/compliance", compressed, h.householdCompliance)
	a.GET("/compliance/missed", compressed, h.missedReport)
	a.GET("/compliance/forecast", compressed, h.forecast)
	a.POST("/compliance/closes", managers, h.closePeriod)
	a.GET("/compliance/coverage", compressed, h.coverage)
	a.GET("/cadres/:id/summary", compressed, h.cadreSummary)
	a.POST("/inspections", managers, h.createInspection)
	a.GET("/inspections", h.listInspections)
	a.GET("/inspections/:id", h.getInspection)
	a.POST("/inspections/:id/sample", managers, h.drawSample)
	a.GET("/inspections/:id/sample", h.getSample)
	a.POST("/inspections/:id/sample/verify", noBody, h.verifySample)
	a.POST("/inspections/:id/end", noBody, h.endInspection)
	a.GET("/inspection-forms", h.inspectionForms)
	a.PUT("/inspections/:id/households/:household_id/findings", inspectors, h.putFindings("household_id", "household"))
	a.PUT("/inspections/:id/villages/:village_id/findings", inspectors, h.putFindings("village_id", "village"))
	a.GET("/inspections/:id/findings", h.listFindings)
	a.GET("/inspections/:id/report", compressed, h.inspectionReport)
	a.POST("/accountability", managers, h.createAccountability)
	a.GET("/accountability", h.listAccountability)
	a.POST("/accountability/:id/follow-up", managers, h.followUpAccountability)
	a.GET("/exports/visits", compressed, h.export(h.Compliance.VisitLedger))
	a.GET("/exports/missed", compressed, h.export(h.Compliance.MissedLedger))
	a.GET("/exports/progress", compressed, h.export(h.Compliance.ProgressLedger))
	a.GET("/exports/register", compressed, h.exportRegister)
	a.GET("/exports/income", compressed, h.caseworkLedger(h.Casework.IncomeLedger))
	a.GET("/exports/exits", compressed, h.caseworkLedger(h.Casework.ExitLedger))
	a.POST("/rectifications", notCadres, h.createRectification)
	a.GET("/rectifications", h.listRectifications)
	a.GET("/rectifications/:id", h.getRectification)
	// Inspectors withdraw (撤销) what they registered in error; the ledger
	// service refuses them every other move.
	a.POST("/rectifications/:id/actions", h.actOnRectification)
	a.GET("/exports/rectifications", compressed, h.exportRectifications)
	// Printed forms: PDFs are compressed inside, so they go as they are.
	a.GET("/households/:id/forms/:form", h.householdForm)
	a.GET("/cadres/:id/handbook.pdf", h.cadreHandbook)
	a.GET("/regions/:id/forms/:form", h.villageForms)
	a.GET("/households/:id/plan", h.getHouseholdPlan)
	a.GET("/plan-items", h.listPlanItems)
	a.POST("/ledgers/:kind/items", notInspectors, h.createLedgerItem)
	a.GET("/ledgers/:kind/items", h.listLedgerItems)
	a.GET("/ledgers/:kind/items/:id", h.getLedgerItem)
	a.POST("/ledgers/:kind/items/:id/actions", notInspectors, h.actOnLedgerItem)
	a.GET("/risk-warnings", h.listRiskWarnings)
	a.POST("/risk-warnings/:id/resolve", managers, h.resolveRiskWarning)
	return r
}

func (h *handlers) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	out := gin.H{}
	ok := true
	for _, rc := range h.Ready {
		if err := rc.Check(ctx); err != nil {
			ok = false
			out[rc.Name] = "unavailable"
			h.Log.Warn("readiness check failed", "check", rc.Name, "error", err.Error())
		} else {
			out[rc.Name] = "ok"
		}
	}
	status := http.StatusOK
	out["status"] = "ready"
	switch {
	case h.Draining != nil && h.Draining():
		status = http.StatusServiceUnavailable
		out["status"] = "draining"
		c.Header("Retry-After", "5")
	case !ok:
		status = http.StatusServiceUnavailable
		out["status"] = "not_ready"
		c.Header("Retry-After", "5")
	}
	c.JSON(status, out)
}
