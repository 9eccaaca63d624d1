package weaviate

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate/entities/models"
)

// TenantName is the Weaviate tenant of a company: "c" and the UUID's 32 hex
// digits. It is injective, so two companies never share a tenant.
func TenantName(companyID uuid.UUID) string {
	var b [33]byte
	b[0] = 'c'
	hex.Encode(b[1:], companyID[:])
	return string(b[:])
}

// ensureTenant creates the company's tenant if needed.
func (s *Store) ensureTenant(ctx context.Context, tenant string) error {
	if _, ok := s.tenants.Load(tenant); ok {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	for _, class := range []string{s.class, s.infoClass} {
		exists, err := s.client.Schema().TenantsExists().WithClassName(class).WithTenant(tenant).Do(cctx)
		if err != nil {
			return s.wrap(ctx, "check tenant", err)
		}
		if exists {
			continue
		}
		err = s.client.Schema().TenantsCreator().WithClassName(class).
			WithTenants(models.Tenant{Name: tenant, ActivityStatus: models.TenantActivityStatusACTIVE}).Do(cctx)
		if err != nil && !strings.Contains(strings.ToLower(err.Error()), "already exist") {
			return s.wrap(ctx, "create tenant", err)
		}
	}
	s.tenants.Store(tenant, struct{}{})
	return nil
}

func isTenantMissing(err error) bool {
	if err == nil {
		return false
	}
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "tenant not found") || strings.Contains(m, "tenant") && strings.Contains(m, "not found") ||
		strings.Contains(m, "tenant") && strings.Contains(m, "does not exist")
}

// DeleteCompany removes the company's tenant, with all its passages and
// records.
func (s *Store) DeleteCompany(ctx context.Context, companyID uuid.UUID) error {
	tenant, cctx, done, err := s.startDelete(ctx, companyID)
	if err != nil {
		return err
	}
	defer done()
	s.tenants.Delete(tenant)
	for _, class := range []string{s.infoClass, s.class} {
		err := s.client.Schema().TenantsDeleter().WithClassName(class).WithTenants(tenant).Do(cctx)
		if err != nil && !isTenantMissing(err) {
			return s.wrap(ctx, "delete tenant", err)
		}
	}
	return nil
}
