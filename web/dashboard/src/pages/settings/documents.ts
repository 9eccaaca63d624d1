// The settings pages' GraphQL operations.
import { graphql } from '../../gql'

export const SettingsCompanyFields = graphql(`
  fragment SettingsCompanyFields on Company {
    id
    name
    slug
    email
    phone
    website
    logoURL
    subscriptionPlan
    isActive
    widgetKey
    brandColor
    greeting
    allowedOrigins
    requireIdentity
    assistantName
    assistantTone
    autoHandoff
    awayMessage
    businessHours {
      timeZone
      days {
        day
        open
        close
      }
    }
    identitySecret
  }
`)

export const SettingsCompany = graphql(`
  query SettingsCompany {
    company {
      ...SettingsCompanyFields
    }
  }
`)

export const SettingsUpdateCompany = graphql(`
  mutation SettingsUpdateCompany($input: UpdateCompanyInput!) {
    updateCompany(input: $input) {
      ...SettingsCompanyFields
    }
  }
`)

export const SettingsRotateIdentitySecret = graphql(`
  mutation SettingsRotateIdentitySecret {
    rotateIdentitySecret {
      id
      identitySecret
    }
  }
`)

export const SettingsDeactivateCompany = graphql(`
  mutation SettingsDeactivateCompany {
    deactivateCompany {
      id
      isActive
    }
  }
`)

export const SettingsCompanyEvents = graphql(`
  subscription SettingsCompanyEvents {
    companyEvents {
      kind
    }
  }
`)
