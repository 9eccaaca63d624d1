package ingest

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"concierge/audit"
	"concierge/ent"
	"concierge/ent/company"
	"concierge/fault"
	"concierge/ratelimit"
)

// JobsPerHour is how many ingestion jobs (new resources and reprocessing)
// a company may start per hour, by plan; the bucket starts full.
var JobsPerHour = map[company.SubscriptionPlan]int{
	company.SubscriptionPlanFREE:       20,
	company.SubscriptionPlanBASIC:      100,
	company.SubscriptionPlanPREMIUM:    500,
	company.SubscriptionPlanENTERPRISE: 2000,
}

// takeJob counts one ingestion job against the company's plan, in the
// shared store (every replica counts against the same quota).
func (s *Service) takeJob(ctx context.Context) error {
	if s.cfg.Limits == nil {
		return nil
	}
	cid, err := tenant(ctx)
	if err != nil {
		return err
	}
	co, err := s.db.Client.Company.Get(ctx, cid)
	if err != nil {
		return err
	}
	n := JobsPerHour[co.SubscriptionPlan]
	if n <= 0 {
		n = JobsPerHour[company.SubscriptionPlanFREE]
	}
	ok, wait, err := s.cfg.Limits.TakeEach(ctx, ratelimit.Bucket{Key: "ingest:" + cid.String(), Burst: n, Every: time.Hour / time.Duration(n)})
	if err != nil {
		s.log.WarnContext(ctx, "ingest: quota store unavailable; not limiting", slog.Any("err", err))
		return nil
	}
	if !ok {
		e := fault.RateLimited(wait)
		e.Message = "this company's plan allows " + strconv.Itoa(n) + " knowledge jobs per hour; try again later"
		return e
	}
	return nil
}

// audit records an admin action on a resource.
func (s *Service) audit(ctx context.Context, r *ent.Resource, action, summary string) {
	id := r.ID
	audit.Record(ctx, s.db.Client, audit.Entry{CompanyID: &r.CompanyID, Action: action, TargetType: "resource",
		TargetID: &id, Summary: summary})
}
