package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"concierge/ent/schema/schematype"
)

// SlugPattern is what a company slug must look like: URL-safe, 2 to 63 chars.
var SlugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Company is a tenant: everything else (but super admins) belongs to one.
type Company struct{ ent.Schema }

// Mixin of the Company.
func (Company) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TimeMixin{}}
}

// Fields of the Company.
func (Company) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.String("slug").Unique().MaxLen(63).Match(SlugPattern).
			Annotations(entgql.OrderField("SLUG")),
		field.String("email").MaxLen(254),
		field.String("phone").Optional().MaxLen(50),
		field.String("website").Optional().MaxLen(2048),
		field.String("logo_url").Optional().MaxLen(2048).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("subscription_plan").Values("FREE", "BASIC", "PREMIUM", "ENTERPRISE").Default("FREE").
			Annotations(entgql.Type("SubscriptionPlan")),
		field.Bool("is_active").Default(true),
		field.Time("deactivated_at").Optional().Nillable(),
		// Widget settings. The widget key is public: it is embedded in the
		// company's site and identifies the company to the widget.
		field.String("widget_key").Unique().Immutable().MaxLen(64).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		field.String("brand_color").Default("#4F46E5").MaxLen(7).Match(regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)),
		field.String("greeting").Default("Hi! How can we help you today?").MaxLen(500),
		field.Strings("allowed_origins").Optional().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		// identity_secret signs visitor identities (HMAC of the external id).
		field.String("identity_secret").Sensitive().MaxLen(128).
			Annotations(entgql.Skip()),
		field.Bool("require_identity").Default(false),
		// Assistant and handoff settings.
		field.String("assistant_name").Default("Assistant").NotEmpty().MaxLen(60),
		field.String("assistant_tone").Optional().MaxLen(200),
		// auto_handoff moves a conversation to a human as soon as the
		// assistant cannot answer from the knowledge.
		field.Bool("auto_handoff").Default(true),
		// business_hours (none: always open) and away_message, said when a
		// human is asked for outside them or when no agent is online.
		field.JSON("business_hours", &schematype.BusinessHours{}).Optional().Annotations(entgql.Skip()),
		field.String("away_message").Optional().MaxLen(500),
	}
}

// Annotations of the Company.
func (Company) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
	}
}
