// Package audit records who changed which company, agent, resource or key,
// and when. Entries are written after the change succeeded, with the
// actor taken from the context's viewer; they never carry secrets (the
// summary names the fields that changed, not their values).
package audit

import (
	"context"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"concierge/auth"
	"concierge/ent"
	"concierge/ent/auditlog"
	"concierge/ent/privacy"
	"concierge/viewer"
)

// Entry is one admin action.
type Entry struct {
	// CompanyID is the company the action concerns (nil: the platform).
	CompanyID *uuid.UUID
	// Action is "<entity>.<verb>": company.update, agent.create, ...
	Action     string
	TargetType string
	TargetID   *uuid.UUID
	// Summary says what changed, e.g. "fields: name, greeting".
	Summary string
}

// Record writes e with the context's viewer as its actor. A failure is
// logged, not returned: the action itself has already happened.
func Record(ctx context.Context, client *ent.Client, e Entry) {
	v := viewer.FromContext(ctx)
	sys := privacy.DecisionContext(context.WithoutCancel(ctx), privacy.Allow)
	c := client.AuditLog.Create().SetAction(e.Action).SetTargetType(e.TargetType).
		SetNillableTargetID(e.TargetID).SetNillableCompanyID(e.CompanyID).
		SetSummary(truncate(e.Summary, 1000)).SetIP(truncate(auth.ClientIP(ctx), 64))
	switch v.Kind {
	case viewer.KindUser:
		c.SetActorType(auditlog.ActorTypeUSER).SetActorID(v.ID)
		if u, err := client.User.Get(sys, v.ID); err == nil {
			c.SetActorName(u.Email)
		}
	case viewer.KindSuperAdmin:
		c.SetActorType(auditlog.ActorTypeSUPER_ADMIN).SetActorID(v.ID)
		if a, err := client.SuperAdmin.Get(sys, v.ID); err == nil {
			c.SetActorName(a.Username)
		}
	case viewer.KindAPIKey:
		c.SetActorType(auditlog.ActorTypeAPI_KEY).SetActorID(v.ID)
		if k, err := client.APIKey.Get(sys, v.ID); err == nil {
			c.SetActorName(truncate(k.Name+" ("+k.Prefix+")", 254))
		}
	case viewer.KindSystem:
		c.SetActorType(auditlog.ActorTypeSYSTEM)
	default:
		c.SetActorType(auditlog.ActorTypeANONYMOUS)
	}
	if err := c.Exec(sys); err != nil {
		slog.ErrorContext(ctx, "audit: recording an action", slog.String("action", e.Action), slog.Any("err", err))
	}
}

// Fields lists the names of the fields an update set, for a summary.
func Fields(names ...string) string {
	var set []string
	for _, n := range names {
		if n != "" {
			set = append(set, n)
		}
	}
	if len(set) == 0 {
		return ""
	}
	return "fields: " + strings.Join(set, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
