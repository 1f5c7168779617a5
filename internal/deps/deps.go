//go:build tools

// Package deps pins modules that are not yet imported elsewhere.
package deps

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/a-h/templ"
	_ "github.com/caarlos0/env/v11"
	_ "github.com/chromedp/chromedp"
	_ "github.com/emersion/go-smtp"
	_ "github.com/google/uuid"
	_ "github.com/gorilla/sessions"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/labstack/echo/v4"
	_ "github.com/labstack/echo/v4/middleware"
	_ "github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	_ "github.com/line/line-bot-sdk-go/v8/linebot/webhook"
	_ "github.com/nicksnyder/go-i18n/v2/i18n"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/wneessen/go-mail"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/crypto/hkdf"
	_ "golang.org/x/image/draw"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/text/language"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
)
