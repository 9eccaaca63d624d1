package chat

import (
	"context"
	"log/slog"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/user"
	"concierge/viewer"
)

// nextAgent picks the online, active agent who was assigned a conversation
// longest ago (never first) and marks it assigned now; nil when nobody is
// online. Presence is in the database, so every replica agrees on it.
func (s *Service) nextAgent(sys context.Context) (*ent.User, error) {
	u, err := s.client.User.Query().
		Where(user.IsActive(true), user.OnlineUntilGT(s.now())).
		Order(user.ByLastAssignedAt(entsql.OrderNullsFirst()), user.ByID()).
		First(sys)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.client.User.UpdateOneID(u.ID).SetLastAssignedAt(s.now()).Exec(sys); err != nil {
		return nil, err
	}
	return u, nil
}

// Online marks the staff viewer online while it follows the inbox, and
// gives waiting, unassigned conversations to the online agents. The
// returned stop ends it (the agent goes offline PresenceGrace after its
// last inbox subscription in this process ends, unless one starts again
// meanwhile; others refresh within Presence).
func (s *Service) Online(ctx context.Context) (stop func()) {
	v := viewer.FromContext(ctx)
	if !v.Staff() {
		return func() {}
	}
	sys := viewer.SystemContext(context.WithoutCancel(ctx), v.CompanyID)
	s.mu.Lock()
	s.online[v.ID]++
	s.mu.Unlock()
	refresh := func() {
		if err := s.client.User.UpdateOneID(v.ID).SetOnlineUntil(s.now().Add(s.cfg.Presence)).Exec(sys); err != nil && !ent.IsNotFound(err) {
			s.log.Warn("chat: refreshing agent presence", slog.Any("err", err))
		}
	}
	refresh()
	s.assignWaiting(sys)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(s.cfg.Presence / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-s.ctx.Done():
				return
			case <-t.C:
				refresh()
			}
		}
	}()
	return func() {
		close(done)
		s.mu.Lock()
		s.online[v.ID]--
		last := s.online[v.ID] <= 0
		if last {
			delete(s.online, v.ID)
		}
		s.mu.Unlock()
		if last {
			if err := s.client.User.UpdateOneID(v.ID).SetOnlineUntil(s.now().Add(s.cfg.PresenceGrace)).Exec(sys); err != nil && !ent.IsNotFound(err) {
				s.log.Warn("chat: agent going offline", slog.Any("err", err))
			}
		}
	}
}

// assignWaiting gives the company's waiting, unassigned conversations
// (oldest first) to online agents, round-robin.
func (s *Service) assignWaiting(sys context.Context) {
	waiting, err := s.client.Conversation.Query().
		Where(conversation.StatusEQ(conversation.StatusWAITING_HUMAN), conversation.AssigneeIDIsNil()).
		Order(ent.Asc(conversation.FieldHumanRequestedAt)).Limit(50).All(sys)
	if err != nil {
		s.log.Warn("chat: listing waiting conversations", slog.Any("err", err))
		return
	}
	for _, c := range waiting {
		agent, err := s.nextAgent(sys)
		if err != nil || agent == nil {
			return
		}
		n, err := s.client.Conversation.Update().
			Where(conversation.ID(c.ID), conversation.AssigneeIDIsNil(), conversation.StatusEQ(conversation.StatusWAITING_HUMAN)).
			SetAssigneeID(agent.ID).Save(sys)
		if err == nil && n == 1 {
			s.inbox(sys, c.CompanyID, InboxConversationUpdated, c.ID, uuid.Nil)
		}
	}
}

// IsOnline reports whether the agent is online: it follows the inbox (on
// any replica) and its presence has not run out.
func (s *Service) IsOnline(u *ent.User) bool {
	return u.OnlineUntil != nil && u.OnlineUntil.After(s.now())
}
