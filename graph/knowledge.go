package graph

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/schema/schematype"
	"concierge/fault"
	"concierge/graph/model"
	"concierge/retrieval"
	"concierge/viewer"
)

// maxTestPassages is how many passages testQuestion shows.
const maxTestPassages = 10

// testQuestion asks the company's knowledge what a visitor's first message
// would get: the request chat builds for a reply, the passages the
// assistant's retrieval finds for it, and the assistant's answer. Nothing
// is stored.
func (r *Resolver) testQuestion(ctx context.Context, question string, companyID *uuid.UUID) (*model.KnowledgeTest, error) {
	co, search, err := r.knowledgeOf(ctx, companyID)
	if err != nil {
		return nil, err
	}
	req, err := r.Chat.TestRequest(ctx, co, question)
	if err != nil {
		return nil, err
	}
	hits, err := r.Assistant.Search(search, req, maxTestPassages)
	if err != nil {
		if errors.Is(err, retrieval.ErrUnavailable) {
			return nil, &fault.Error{Code: fault.CodeUnavailable, Message: "the knowledge index cannot be searched right now", Err: err}
		}
		return nil, err
	}
	ans, err := r.Assistant.Answer(search, req, nil)
	if err != nil {
		return nil, err
	}
	threshold := r.Assistant.Threshold()
	out := &model.KnowledgeTest{Question: req.History[0].Text, Answer: ans.Text, Outcome: message.Outcome(ans.Outcome),
		Citations: make([]*schematype.Citation, len(ans.Citations)), Threshold: threshold, Passages: make([]*model.KnowledgeHit, 0, len(hits))}
	for i := range ans.Citations {
		out.Citations[i] = &ans.Citations[i]
	}
	for _, h := range hits {
		kh := &model.KnowledgeHit{ResourceID: h.ResourceID, Title: h.Title, Text: h.Text, Score: h.Score, Relevant: h.Score >= threshold,
			LeftOut: leftOut(h.Text)}
		if h.Heading != "" {
			kh.Heading = &h.Heading
		}
		if h.URL != "" {
			kh.URL = &h.URL
		}
		if h.Page > 0 {
			kh.Page = &h.Page
		}
		out.Passages = append(out.Passages, kh)
	}
	return out, nil
}

// knowledgeOf is the company whose knowledge a staff tool reads, the
// viewer's own or, for a super admin, companyID, with the context that
// searches its index: the viewer's own (retrieval searches the viewer's
// company), or the system viewer of the company a super admin named.
// Privacy decides: the company must be visible to the viewer, and its
// resources readable (staff, knowledge:read keys, super admins).
func (r *Resolver) knowledgeOf(ctx context.Context, companyID *uuid.UUID) (*ent.Company, context.Context, error) {
	v := viewerOf(ctx)
	switch {
	case v.Kind == viewer.KindNone:
		return nil, nil, fault.Unauthenticated("log in first")
	case v.Kind == viewer.KindVisitor:
		return nil, nil, fault.Forbidden("only the company's staff test its knowledge")
	case v.SuperAdmin() && companyID == nil:
		return nil, nil, fault.Invalid("companyId", "companyId is required for super admins")
	case r.Assistant == nil:
		return nil, nil, &fault.Error{Code: fault.CodeUnavailable, Message: "no knowledge index is configured on this server"}
	}
	id, _ := v.Tenant()
	if companyID != nil {
		id = *companyID
	}
	co, err := r.Client.Company.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil, fault.NotFound("company")
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := r.Client.Resource.Query().Exist(ctx); err != nil {
		return nil, nil, err // the viewer may not read knowledge at all
	}
	if v.SuperAdmin() {
		return co, viewer.SystemContext(ctx, co.ID), nil
	}
	return co, ctx, nil
}
