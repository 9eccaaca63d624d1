// The inbox's GraphQL operations (shared by the provider and the page).
import { graphql } from '../gql'

export const InboxConversationScalars = graphql(`
  fragment InboxConversationScalars on Conversation {
    id
    status
    createdAt
    updatedAt
    lastMessageAt
    lastMessagePreview
    humanRequestedAt
    closedAt
    language
    rating
    ratingComment
    visitorID
    assigneeID
  }
`)

export const InboxConversationFields = graphql(`
  fragment InboxConversationFields on Conversation {
    ...InboxConversationScalars
    visitor {
      id
      name
      email
      externalID
      firstSeenAt
      lastSeenAt
    }
    assignee {
      id
      fullName
    }
  }
`)

/** A list row: the conversation and the seqs of its latest visitor messages (for unread counts). */
export const InboxListNode = graphql(`
  fragment InboxListNode on Conversation {
    ...InboxConversationFields
    recentVisitorMessages: messages(last: 20, where: { senderType: VISITOR }) {
      edges {
        node {
          seq
        }
      }
    }
  }
`)

export const InboxStartQuery = graphql(`
  query InboxStart($me: ID!) {
    waiting: conversations(first: 60, where: { status: WAITING_HUMAN }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...InboxListNode
        }
      }
    }
    mine: conversations(first: 60, where: { assigneeID: $me, statusNEQ: CLOSED }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...InboxListNode
        }
      }
    }
    open: conversations(first: 40, where: { statusNEQ: CLOSED }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...InboxListNode
        }
      }
    }
    bot: conversations(where: { status: BOT }) {
      totalCount
    }
    closed: conversations(where: { status: CLOSED }) {
      totalCount
    }
  }
`)

export const InboxCountsQuery = graphql(`
  query InboxCounts($me: ID!) {
    waiting: conversations(where: { status: WAITING_HUMAN }) {
      totalCount
    }
    mine: conversations(where: { assigneeID: $me, statusNEQ: CLOSED }) {
      totalCount
    }
    bot: conversations(where: { status: BOT }) {
      totalCount
    }
    open: conversations(where: { statusNEQ: CLOSED }) {
      totalCount
    }
    closed: conversations(where: { status: CLOSED }) {
      totalCount
    }
  }
`)

export const InboxPageQuery = graphql(`
  query InboxPage($where: ConversationWhereInput, $after: Cursor, $first: Int!) {
    conversations(first: $first, after: $after, where: $where, orderBy: { field: LAST_MESSAGE_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...InboxListNode
        }
      }
    }
  }
`)

export const InboxByIdsQuery = graphql(`
  query InboxByIds($ids: [ID!]!, $first: Int!) {
    conversations(first: $first, where: { idIn: $ids }) {
      edges {
        node {
          ...InboxListNode
        }
      }
    }
  }
`)

export const InboxEventsSubscription = graphql(`
  subscription InboxEvents {
    inboxEvents {
      kind
      conversation {
        ...InboxConversationScalars
      }
      message {
        id
        seq
        senderType
      }
    }
  }
`)

export const InboxMessageFields = graphql(`
  fragment InboxMessageFields on Message {
    id
    seq
    senderType
    senderName
    body
    createdAt
    clientMessageID
    outcome
    confidence
    citations {
      title
      url
      page
      snippet
      score
      resource {
        id
        title
      }
    }
  }
`)

export const InboxConversationQuery = graphql(`
  query InboxConversation($id: ID!, $last: Int!) {
    conversation(id: $id) {
      ...InboxConversationFields
      company {
        id
        assistantName
      }
      messages(last: $last) {
        pageInfo {
          hasPreviousPage
          startCursor
        }
        edges {
          node {
            ...InboxMessageFields
          }
        }
      }
    }
  }
`)

export const InboxEarlierQuery = graphql(`
  query InboxEarlier($id: ID!, $last: Int!, $before: Cursor) {
    conversation(id: $id) {
      id
      messages(last: $last, before: $before) {
        pageInfo {
          hasPreviousPage
          startCursor
        }
        edges {
          node {
            ...InboxMessageFields
          }
        }
      }
    }
  }
`)

export const InboxConversationEventsSubscription = graphql(`
  subscription InboxConversationEvents($conversationId: ID!, $after: ID) {
    conversationEvents(conversationId: $conversationId, after: $after) {
      kind
      messageID
      delta
      typing {
        senderType
        name
        typing
      }
      conversation {
        id
        status
      }
      message {
        ...InboxMessageFields
      }
    }
  }
`)

export const InboxSendMutation = graphql(`
  mutation InboxSend($conversationId: ID!, $body: String!, $clientMessageId: String) {
    sendMessage(conversationId: $conversationId, body: $body, clientMessageId: $clientMessageId) {
      ...InboxMessageFields
    }
  }
`)

export const InboxTakeOverMutation = graphql(`
  mutation InboxTakeOver($id: ID!) {
    takeOverConversation(id: $id) {
      ...InboxConversationFields
    }
  }
`)

export const InboxHandBackMutation = graphql(`
  mutation InboxHandBack($id: ID!) {
    handBackToBot(id: $id) {
      ...InboxConversationFields
    }
  }
`)

export const InboxCloseMutation = graphql(`
  mutation InboxClose($id: ID!) {
    closeConversation(id: $id) {
      ...InboxConversationFields
    }
  }
`)

export const InboxSetTypingMutation = graphql(`
  mutation InboxSetTyping($conversationId: ID!, $typing: Boolean!) {
    setTyping(conversationId: $conversationId, typing: $typing)
  }
`)
