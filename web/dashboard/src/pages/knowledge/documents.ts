// The knowledge pages' GraphQL operations (KnowledgePage, ResourcePage and
// the super admin's All resources).
import { graphql } from '../../gql'

export const KnowledgeResourceFields = graphql(`
  fragment KnowledgeResourceFields on Resource {
    id
    type
    title
    sourceURL
    fileName
    status
    error
    isActive
    chunkCount
    progress
    createdAt
    updatedAt
    syncInterval
    lastSyncedAt
    nextSyncAt
  }
`)

export const KnowledgeResources = graphql(`
  query KnowledgeResources($first: Int, $after: Cursor, $where: ResourceWhereInput) {
    resources(first: $first, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...KnowledgeResourceFields
        }
      }
    }
  }
`)

export const KnowledgeAllResources = graphql(`
  query KnowledgeAllResources($first: Int, $after: Cursor, $where: ResourceWhereInput) {
    resources(first: $first, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...KnowledgeResourceFields
          company {
            id
            name
          }
        }
      }
    }
  }
`)

export const KnowledgeResourceEvents = graphql(`
  subscription KnowledgeResourceEvents($id: ID) {
    resourceEvents(id: $id) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeAddText = graphql(`
  mutation KnowledgeAddText($input: AddTextInput!) {
    addText(input: $input) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeUploadPdf = graphql(`
  mutation KnowledgeUploadPdf($file: Upload!, $title: String) {
    uploadPdf(file: $file, title: $title) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeAddWebsite = graphql(`
  mutation KnowledgeAddWebsite($input: AddWebsiteInput!) {
    addWebsite(input: $input) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeAddFacebookPage = graphql(`
  mutation KnowledgeAddFacebookPage($input: AddFacebookPageInput!) {
    addFacebookPage(input: $input) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeUpdateResource = graphql(`
  mutation KnowledgeUpdateResource($id: ID!, $input: UpdateResourceInput!) {
    updateResource(id: $id, input: $input) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeDeleteResource = graphql(`
  mutation KnowledgeDeleteResource($id: ID!) {
    deleteResource(id: $id)
  }
`)

export const KnowledgeReprocessResource = graphql(`
  mutation KnowledgeReprocessResource($id: ID!) {
    reprocessResource(id: $id) {
      ...KnowledgeResourceFields
    }
  }
`)

export const KnowledgeResource = graphql(`
  query KnowledgeResource($id: ID!) {
    resource(id: $id) {
      ...KnowledgeResourceFields
      company {
        id
        name
      }
    }
  }
`)

export const KnowledgeResourceChunks = graphql(`
  query KnowledgeResourceChunks($id: ID!, $offset: Int, $limit: Int) {
    resource(id: $id) {
      id
      chunks(offset: $offset, limit: $limit) {
        totalCount
        chunks {
          id
          ordinal
          heading
          text
          page
          url
          tokenCount
          leftOut
        }
      }
    }
  }
`)

export const KnowledgeTestQuestion = graphql(`
  query KnowledgeTestQuestion($question: String!) {
    testQuestion(question: $question) {
      question
      answer
      outcome
      threshold
      citations {
        resourceID
        title
        url
        page
        score
      }
      passages {
        resourceID
        resource {
          id
          title
        }
        title
        heading
        url
        page
        text
        score
        relevant
        leftOut
      }
    }
  }
`)
