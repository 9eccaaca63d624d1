// Package value holds the Go types stored in JSON columns of the schema.
package schematype

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Citation points an answer at the passage it came from.
type Citation struct {
	ResourceID uuid.UUID `json:"resourceId"`
	Title      string    `json:"title"`
	URL        string    `json:"url,omitempty"`
	Page       int       `json:"page,omitempty"`
	Snippet    string    `json:"snippet"`
	Score      float64   `json:"score"`
}

// BusinessHours are when a company's team answers. Days lists the open
// periods; a day without one is closed.
type BusinessHours struct {
	// TimeZone is an IANA name ("Europe/Paris"); empty means UTC.
	TimeZone string         `json:"timeZone"`
	Days     []OpeningHours `json:"days"`
}

// OpeningHours is one open period of a weekday (0 = Sunday), "09:00" to
// "17:30", local time.
type OpeningHours struct {
	Day   int    `json:"day"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Validate checks the time zone, the days (0-6) and that every period is
// HH:MM to a later HH:MM.
func (b *BusinessHours) Validate() error {
	if _, err := time.LoadLocation(b.TimeZone); err != nil {
		return fmt.Errorf("unknown time zone %q", b.TimeZone)
	}
	for _, d := range b.Days {
		if d.Day < 0 || d.Day > 6 {
			return fmt.Errorf("day %d is not a weekday (0-6)", d.Day)
		}
		o, err1 := minutes(d.Open)
		c, err2 := minutes(d.Close)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("opening hours must look like 09:00 (got %q to %q)", d.Open, d.Close)
		}
		if c <= o {
			return fmt.Errorf("closing time %s is not after opening time %s", d.Close, d.Open)
		}
	}
	return nil
}

// OpenAt reports whether t falls in the hours. No hours (nil) means always
// open; an unknown time zone counts as UTC.
func (b *BusinessHours) OpenAt(t time.Time) bool {
	if b == nil || len(b.Days) == 0 {
		return true
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	t = t.In(loc)
	now := t.Hour()*60 + t.Minute()
	for _, d := range b.Days {
		o, err1 := minutes(d.Open)
		c, err2 := minutes(d.Close)
		if err1 == nil && err2 == nil && d.Day == int(t.Weekday()) && now >= o && now < c {
			return true
		}
	}
	return false
}

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}
