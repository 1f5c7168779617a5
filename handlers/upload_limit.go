package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// upload marks a route that takes a file: the body is cut off at limit bytes while it is read
// (http.MaxBytesReader), and multipart/form-data is accepted.
func upload(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().ContentLength > limit {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, limit)
			return next(c)
		}
	}
}
