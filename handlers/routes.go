package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/static"
)

// routes is the single route table.
func (h *Handler) routes(e *echo.Echo) {
	// Operations and static files.
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", h.metrics)
	e.GET("/static/*", h.static(), cacheStatic)
	// Browsers ask for /favicon.ico on every site whatever the page says.
	e.GET("/favicon.ico", h.favicon, cacheStatic)

	// Platform webhooks: authenticated by their signatures, not by sessions or CSRF.
	e.GET("/webhooks/meta", h.metaWebhookVerify)
	e.POST("/webhooks/meta", h.metaWebhook)
	e.POST("/webhooks/line/:channelID", h.lineWebhook)

	// OmniLink for customers: public, no session, rate-limited per address.
	e.GET("/l/:token", h.linkClick, h.linkRate)
	e.GET("/liff/link", h.liffLink)
	e.GET("/liff/link/:liffID", h.liffLink)
	e.POST("/liff/api/link", h.liffAPILink, h.linkRate)

	// Console session. Every body is bounded by limitBody (body.go) before anything reads it;
	// a route that takes files declares itself here with upload(limit).
	e.GET("/login", h.loginPage)
	e.POST("/login", h.login)
	e.POST("/logout", h.logout)
	e.POST("/settings/language", h.setLanguage)
	// Invitation and password links and the forgot-password form: public pages, whose forms
	// carry CSRF tokens like every other.
	e.GET("/invite/:token", h.inviteAcceptPage)
	e.POST("/invite/:token", h.inviteAccept)
	e.GET("/password/forgot", h.passwordForgotPage)
	e.POST("/password/forgot", h.passwordForgot)
	e.GET("/password/reset/:token", h.passwordResetPage)
	e.POST("/password/reset/:token", h.passwordReset)

	// Console pages, guarded by the permission table.
	console := e.Group("", requireUser)
	console.GET("/", h.dashboard)

	campaigns := console.Group("/campaigns", requireCap(models.CapCampaigns))
	campaigns.GET("", h.campaignList)
	campaigns.GET("/new", h.campaignNew)
	campaigns.POST("", h.campaignCreate)
	campaigns.POST("/preview", h.campaignPreview)
	campaigns.GET("/:id", h.campaignEdit)
	campaigns.POST("/:id", h.campaignUpdate)
	campaigns.POST("/:id/enable", h.campaignEnable)
	campaigns.POST("/:id/disable", h.campaignDisable)
	campaigns.POST("/:id/duplicate", h.campaignDuplicate)
	campaigns.POST("/:id/delete", h.campaignDelete)
	campaigns.GET("/:id/history", h.campaignHistory)
	campaigns.GET("/:id/stats", h.campaignStats)
	campaigns.GET("/:id/stats/export", h.campaignExport)
	campaigns.GET("/:id/send", h.campaignSendPage)
	campaigns.POST("/:id/send", h.campaignSend)
	// The card image is uploaded on its own as soon as it is picked (multipart, its own limit).
	e.POST("/campaigns/media", h.campaignMediaUpload, requireUser, requireCap(models.CapCampaigns), upload(campaignUploadLimit))
	// Card images for the platforms and the previews: content-addressed, public, immutable.
	e.GET("/media/:file", h.mediaServe)

	mods := console.Group("/modules", requireCap(models.CapCampaigns))
	mods.GET("", h.moduleList)
	mods.GET("/new", h.moduleNew)
	mods.POST("", h.moduleCreate)
	mods.POST("/form", h.moduleFormOp)
	mods.POST("/preview", h.modulePreview)
	mods.GET("/:id", h.moduleView)
	mods.GET("/:id/edit", h.moduleEdit)
	mods.POST("/:id", h.moduleUpdate)
	mods.POST("/:id/delete", h.moduleDelete)

	triggers := console.Group("/triggers", requireCap(models.CapCampaigns))
	triggers.GET("", h.triggerList)
	triggers.POST("", h.triggerCreate)
	triggers.POST("/:id/delete", h.triggerDelete)

	customers := console.Group("/customers", requireCap(models.CapCustomers))
	customers.GET("", h.customerList)
	customers.GET("/:id", h.customerShow)
	customers.POST("/:id/reply", h.customerReply)
	edit := customers.Group("", requireCap(models.CapCustomerEdit))
	edit.POST("/:id/member", h.customerMemberNo)
	edit.POST("/:id/tags", h.customerTagAdd)
	edit.POST("/:id/tags/remove", h.customerTagRemove)
	edit.GET("/:id/merge", h.customerMergePage)
	edit.POST("/:id/merge", h.customerMerge)
	edit.POST("/merges/:id/undo", h.customerUndo)
	edit.GET("/import", h.customerImportPage)
	// The member-number file is posted on its own, with its own size limit.
	e.POST("/customers/import", h.customerImport, requireUser, requireCap(models.CapCustomerEdit), upload(customerImportLimit))

	tags := console.Group("/tags", requireCap(models.CapTags))
	tags.GET("", h.tagList)
	tags.POST("", h.tagCreate)
	tags.GET("/:id", h.tagShow)
	tags.POST("/:id/delete", h.tagDelete)
	tags.POST("/:id/apply", h.tagApply)
	tags.POST("/:id/remove", h.tagRemove)
	tags.POST("/:id/rules", h.tagRuleSave)
	tags.POST("/:id/rules/:ruleID/delete", h.tagRuleDelete)

	journeys := console.Group("/journeys", requireCap(models.CapJourneys))
	journeys.GET("", h.journeyList)
	journeys.POST("", h.journeyCreate)
	journeys.GET("/:id", h.journeyShow)
	journeys.POST("/:id", h.journeyUpdate)
	journeys.POST("/:id/delete", h.journeyDelete)
	journeys.POST("/:id/steps", h.journeyStepAdd)
	journeys.POST("/:id/steps/:n/delete", h.journeyStepDelete)

	channels := console.Group("/channels", requireCap(models.CapChannels))
	channels.GET("", h.channelList)
	channels.POST("/connect/:platform", h.channelConnect)
	channels.GET("/oauth/dialog", h.oauthDialog)
	channels.POST("/oauth/:state/connect", h.oauthConnect)
	channels.POST("/oauth/:state/dismiss", h.oauthDismiss)
	channels.GET("/line/new", h.lineNew)
	channels.POST("/line", h.lineCreate)
	channels.GET("/whatsapp/new", h.whatsappNew)
	channels.POST("/whatsapp", h.whatsappCreate)
	channels.GET("/:id", h.channelDetail)
	channels.GET("/:id/reauthorize", h.channelReauthorizePage)
	channels.POST("/:id/reauthorize", h.channelReauthorize)
	channels.POST("/:id/disconnect", h.channelDisconnect)
	channels.GET("/:id/health", h.channelHealth)
	// Facebook Login's redirect URI; the state it carries is checked against this user and session.
	e.GET("/oauth/meta/callback", h.oauthCallback, requireUser, requireCap(models.CapChannels))

	webhook := console.Group("/settings/webhook", requireCap(models.CapWebhook))
	webhook.GET("", h.settingsWebhook)
	webhook.POST("", h.settingsWebhookSave)
	webhook.POST("/ping", h.settingsWebhookPing)

	users := console.Group("/users", requireCap(models.CapUsers))
	users.GET("", h.userList)
	users.GET("/invite", h.userInvitePage)
	users.POST("/invite", h.userInvite)
	users.GET("/:id/edit", h.userEditPage)
	users.POST("/:id", h.userEdit)
	users.POST("/:id/resend", h.userInviteResend)
	users.POST("/:id/revoke", h.userInviteRevoke)
	users.POST("/:id/role", h.userRole)
	users.POST("/:id/disable", h.userDisable)
	users.POST("/:id/enable", h.userEnable)
	console.GET("/settings/alerts", h.settingsAlertsPage, requireCap(models.CapTeamSettings))
	console.POST("/settings/alerts", h.settingsAlerts, requireCap(models.CapTeamSettings))

	teamSettings := console.Group("/settings/team", requireCap(models.CapTeamSettings))
	teamSettings.GET("", h.teamSettingsPage)
	teamSettings.POST("", h.teamSettingsSave)

	// The provider emulator, mounted only when OMNILINK_PROVIDERS=sandbox. Its APIs are machine
	// paths; its Facebook dialog needs no console login (facebook.com knows nothing of it), but
	// its forms carry CSRF tokens like every other form; the simulator is for any signed-in
	// user, the control panel and mailbox for those who manage channels.
	if h.sandbox != nil {
		e.Any("/sandbox/api/*", h.sandboxAPI)
		e.GET("/sandbox/dialog/:version/dialog/oauth", h.sandboxDialog)
		e.POST("/sandbox/dialog/:version/dialog/oauth", h.sandboxDecide)
		sandbox := console.Group("/sandbox")
		sandbox.GET("/simulator", h.sandboxSimulator)
		sandbox.GET("/simulator/conversation", h.sandboxConversation)
		sandbox.POST("/simulator/send", h.sandboxAct)
		// Breaking tokens and reading alert mail belong to those who manage channels.
		controls := sandbox.Group("", requireCap(models.CapChannels))
		controls.GET("", h.sandboxPanel)
		controls.POST("/break", h.sandboxBreak)
		controls.POST("/repair", h.sandboxRepair)
		controls.POST("/unsubscribe", h.sandboxUnsubscribe)
		controls.POST("/transient", h.sandboxTransient)
		controls.GET("/mailbox", h.sandboxMailbox)
		controls.GET("/mailbox/:id", h.sandboxMailbox)
		controls.GET("/mailbox/:id/html", h.sandboxMailHTML)
		// The LINE app and WhatsApp stand-ins that OmniLink links open.
		e.GET("/sandbox/liff/:liffID", h.sandboxLIFF)
		e.GET("/sandbox/liff/:liffID/open", h.sandboxLIFFOpen)
		e.GET("/sandbox/liff/:liffID/session", h.sandboxLIFFSession)
		sandbox.GET("/liff/:liffID/closed", h.sandboxLIFFClosed)
		sandbox.POST("/liff/:liffID/follow", h.sandboxLIFFFollow)
		sandbox.GET("/line/account/:id", h.sandboxLineAccount)
		sandbox.POST("/line/account/:id", h.sandboxLineAccountFollow)
		sandbox.GET("/wa/:digits", h.sandboxWA)
		sandbox.POST("/wa/:digits", h.sandboxWASend)
	}
}

// cacheStatic lets browsers keep a file addressed by its current version for good; any other
// address is revalidated against the version (embedded files have no modification time), so a
// new release reaches every browser at once.
func cacheStatic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		v := static.Version(strings.TrimPrefix(c.Request().URL.Path, "/static/"))
		switch {
		case v != "" && c.QueryParam("v") == v:
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		case v != "":
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", `"`+v+`"`)
		default:
			h.Set("Cache-Control", "public, max-age=86400")
		}
		return next(c)
	}
}

func (h *Handler) static() echo.HandlerFunc {
	return echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(static.FS)))
}

// favicon serves the site icon from the embedded static files.
func (h *Handler) favicon(c echo.Context) error {
	b, err := static.FS.ReadFile("favicon.ico")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/x-icon", b)
}
