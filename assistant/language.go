package assistant

import (
	"fmt"
	"strings"
)

// language is a supported visitor language: its name (for the prompt), its
// most frequent function words and greetings (for detection), letters only
// it (or few others) uses, and the texts the visitor gets in it.
type language struct {
	code, name string
	stop       string
	letters    string
	texts      map[TextKey]string
}

// TextKey names a short localized text (see Text).
type TextKey string

// The texts, in the visitor's language.
const (
	// TextDeclined: the knowledge does not answer the question.
	TextDeclined TextKey = "declined"
	// TextFailed: the answer could not be produced (LLM or store down).
	TextFailed TextKey = "failed"
	// TextDeclinedHandedOff: as TextDeclined, when the conversation is
	// being passed to the team (no question asked: it is done).
	TextDeclinedHandedOff TextKey = "declined_handed_off"
	// TextFailedHandedOff: as TextFailed, when it is passed to the team.
	TextFailedHandedOff TextKey = "failed_handed_off"
	// TextRephrase: the message had nothing to search for ("???").
	TextRephrase TextKey = "rephrase"
	// TextHandoffWaiting: a human was asked to join.
	TextHandoffWaiting TextKey = "handoff_waiting"
	// TextNoAgentOnline: nobody can join now.
	TextNoAgentOnline TextKey = "no_agent_online"
	// TextAgentJoined has one %s: the agent's name (see AgentJoined).
	TextAgentJoined TextKey = "agent_joined"
	// TextBackToBot: the agent handed the conversation back to the bot.
	TextBackToBot TextKey = "back_to_bot"
	// TextConversationClosed: the conversation was closed.
	TextConversationClosed TextKey = "conversation_closed"
	// TextUnsure starts an offline answer that only just matches the
	// question.
	TextUnsure TextKey = "unsure"
)

// TextKeys lists every key, for tests and translators.
var TextKeys = []TextKey{TextDeclined, TextFailed, TextDeclinedHandedOff, TextFailedHandedOff, TextRephrase, TextHandoffWaiting, TextNoAgentOnline,
	TextAgentJoined, TextBackToBot, TextConversationClosed, TextUnsure}

// Languages lists the supported language codes (BCP-47 base), English first.
var Languages = []string{"en", "fr", "es", "de", "pt", "it", "nl"}

var languages = map[string]*language{
	"en": {code: "en", name: "English",
		stop: `the a an and or of to in on at for with is are was were be been it this that these those what which who how
		why when where can could would should do does did have has i you my your we our they their not no yes please thanks
		thank hello hi hey there from by about if my me is it's i'm don't can't`,
		texts: map[TextKey]string{
			TextDeclined:           "I couldn't find this in our documentation. Would you like to talk to a person?",
			TextDeclinedHandedOff:  "I couldn't find this in our documentation, so I've passed your question to our team.",
			TextFailedHandedOff:    "Sorry, I can't answer right now, so I've passed your question to our team.",
			TextFailed:             "Sorry, I can't answer right now. Would you like to talk to a person from our team?",
			TextRephrase:           "Could you tell me a bit more about what you're looking for?",
			TextHandoffWaiting:     "I've asked a teammate to join; they'll reply here shortly.",
			TextNoAgentOnline:      "Our team isn't available right now. Leave your message here and we'll get back to you as soon as we can.",
			TextAgentJoined:        "%s joined the conversation.",
			TextBackToBot:          "You're chatting with the assistant again. Ask for a person at any time.",
			TextConversationClosed: "This conversation is closed. Thanks for reaching out!",
			TextUnsure:             "I'm not certain, but our documentation says:",
		}},
	"fr": {code: "fr", name: "French", letters: "çèêëàâîïôûùœ",
		stop: `le la les un une des du de et ou est sont était je tu il elle nous vous ils elles ce cette ces que qui quoi
		comment pourquoi quand où est-ce pour dans sur avec pas ne mon ma mes votre vos notre nos leur au aux se sa son
		bonjour merci salut oui non s'il plaît puis peux peut faire avez avoir suis c'est j'ai qu'est-ce d'un d'une l'`,
		texts: map[TextKey]string{
			TextDeclined:           "Je n'ai pas trouvé cette information dans notre documentation. Voulez-vous parler à une personne ?",
			TextDeclinedHandedOff:  "Je n'ai pas trouvé cette information dans notre documentation, j'ai donc transmis votre question à notre équipe.",
			TextFailedHandedOff:    "Désolé, je ne peux pas répondre pour le moment, j'ai donc transmis votre question à notre équipe.",
			TextFailed:             "Désolé, je ne peux pas répondre pour le moment. Voulez-vous parler à une personne de notre équipe ?",
			TextRephrase:           "Pouvez-vous m'en dire un peu plus sur ce que vous cherchez ?",
			TextHandoffWaiting:     "J'ai demandé à un membre de l'équipe de nous rejoindre ; il vous répondra ici très bientôt.",
			TextNoAgentOnline:      "Notre équipe n'est pas disponible pour le moment. Laissez votre message ici et nous vous répondrons dès que possible.",
			TextAgentJoined:        "%s a rejoint la conversation.",
			TextBackToBot:          "Vous discutez de nouveau avec l'assistant. Vous pouvez demander une personne à tout moment.",
			TextConversationClosed: "Cette conversation est terminée. Merci de nous avoir contactés !",
			TextUnsure:             "Je n'en suis pas certain, mais notre documentation indique :",
		}},
	"es": {code: "es", name: "Spanish", letters: "ñ¿¡",
		stop: `el la los las un una unos unas y o de del en por para con es son está están era que qué quien cómo como
		cuál cuándo dónde por qué porque no sí mi mis tu tus su sus nuestro yo usted ustedes nosotros ellos lo le se me
		hola gracias puedo puede hay hacer tengo tiene al muy también pero`,
		texts: map[TextKey]string{
			TextDeclined:           "No encontré esta información en nuestra documentación. ¿Quiere hablar con una persona?",
			TextDeclinedHandedOff:  "No encontré esta información en nuestra documentación, así que he pasado su pregunta a nuestro equipo.",
			TextFailedHandedOff:    "Lo siento, no puedo responder en este momento, así que he pasado su pregunta a nuestro equipo.",
			TextFailed:             "Lo siento, no puedo responder en este momento. ¿Quiere hablar con una persona de nuestro equipo?",
			TextRephrase:           "¿Podría contarme un poco más sobre lo que busca?",
			TextHandoffWaiting:     "He pedido a un compañero del equipo que se una; le responderá aquí en breve.",
			TextNoAgentOnline:      "Nuestro equipo no está disponible en este momento. Deje su mensaje aquí y le responderemos lo antes posible.",
			TextAgentJoined:        "%s se ha unido a la conversación.",
			TextBackToBot:          "Está hablando de nuevo con el asistente. Puede pedir una persona en cualquier momento.",
			TextConversationClosed: "Esta conversación se ha cerrado. ¡Gracias por contactarnos!",
			TextUnsure:             "No estoy seguro, pero nuestra documentación dice:",
		}},
	"de": {code: "de", name: "German", letters: "äöüß",
		stop: `der die das ein eine einen einem einer und oder ist sind war waren ich du er sie es wir ihr mein meine dein
		ihre unser nicht kein keine wie was warum wann wo wer welche welcher mit für auf in im zu zum zur von vom bei
		hallo danke bitte ja nein kann können muss habe haben wird werden auch aber den dem des sich`,
		texts: map[TextKey]string{
			TextDeclined:           "Ich habe dazu nichts in unserer Dokumentation gefunden. Möchten Sie mit einer Person sprechen?",
			TextDeclinedHandedOff:  "Ich habe dazu nichts in unserer Dokumentation gefunden und Ihre Frage an unser Team weitergegeben.",
			TextFailedHandedOff:    "Entschuldigung, ich kann gerade nicht antworten und habe Ihre Frage an unser Team weitergegeben.",
			TextFailed:             "Entschuldigung, ich kann gerade nicht antworten. Möchten Sie mit einer Person aus unserem Team sprechen?",
			TextRephrase:           "Können Sie mir etwas genauer sagen, wonach Sie suchen?",
			TextHandoffWaiting:     "Ich habe eine Kollegin oder einen Kollegen gebeten, dazuzukommen; Sie erhalten hier in Kürze eine Antwort.",
			TextNoAgentOnline:      "Unser Team ist gerade nicht erreichbar. Hinterlassen Sie hier Ihre Nachricht, wir melden uns so bald wie möglich.",
			TextAgentJoined:        "%s ist dem Gespräch beigetreten.",
			TextBackToBot:          "Sie chatten wieder mit dem Assistenten. Sie können jederzeit nach einer Person fragen.",
			TextConversationClosed: "Dieses Gespräch wurde beendet. Danke für Ihre Nachricht!",
			TextUnsure:             "Ich bin mir nicht sicher, aber in unserer Dokumentation steht:",
		}},
	"pt": {code: "pt", name: "Portuguese", letters: "ãõçâêô",
		stop: `o a os as um uma uns umas e ou de do da dos das em no na nos nas por para com é são está estão era que
		quem como qual quando onde porque não sim meu minha seu sua nosso eu você vocês nós eles ele ela se me olá oi
		obrigado obrigada posso pode tem fazer também mas ao à`,
		texts: map[TextKey]string{
			TextDeclined:           "Não encontrei essa informação na nossa documentação. Quer falar com uma pessoa?",
			TextDeclinedHandedOff:  "Não encontrei essa informação na nossa documentação, por isso passei a sua pergunta para a nossa equipe.",
			TextFailedHandedOff:    "Desculpe, não consigo responder agora, por isso passei a sua pergunta para a nossa equipe.",
			TextFailed:             "Desculpe, não consigo responder agora. Quer falar com uma pessoa da nossa equipe?",
			TextRephrase:           "Pode me contar um pouco mais sobre o que procura?",
			TextHandoffWaiting:     "Pedi a um colega da equipe para participar; ele responderá aqui em breve.",
			TextNoAgentOnline:      "Nossa equipe não está disponível no momento. Deixe sua mensagem aqui e responderemos assim que possível.",
			TextAgentJoined:        "%s entrou na conversa.",
			TextBackToBot:          "Você está conversando novamente com o assistente. Peça uma pessoa a qualquer momento.",
			TextConversationClosed: "Esta conversa foi encerrada. Obrigado pelo contato!",
			TextUnsure:             "Não tenho certeza, mas a nossa documentação diz:",
		}},
	"it": {code: "it", name: "Italian", letters: "àèéìòù",
		stop: `il lo la i gli le un uno una e o di del della dei delle in nel nella per con è sono era che chi come
		quale quando dove perché non sì mio mia suo sua nostro io tu lei voi noi loro ciao grazie buongiorno posso può
		fare ho ha anche ma al alla cosa`,
		texts: map[TextKey]string{
			TextDeclined:           "Non ho trovato questa informazione nella nostra documentazione. Vuole parlare con una persona?",
			TextDeclinedHandedOff:  "Non ho trovato questa informazione nella nostra documentazione, quindi ho inoltrato la sua domanda al nostro team.",
			TextFailedHandedOff:    "Mi dispiace, al momento non riesco a rispondere, quindi ho inoltrato la sua domanda al nostro team.",
			TextFailed:             "Mi dispiace, al momento non riesco a rispondere. Vuole parlare con una persona del nostro team?",
			TextRephrase:           "Può dirmi qualcosa in più su ciò che sta cercando?",
			TextHandoffWaiting:     "Ho chiesto a un collega di unirsi; le risponderà qui a breve.",
			TextNoAgentOnline:      "Il nostro team non è disponibile in questo momento. Lasci qui il suo messaggio e le risponderemo il prima possibile.",
			TextAgentJoined:        "%s si è unito alla conversazione.",
			TextBackToBot:          "Sta di nuovo parlando con l'assistente. Può chiedere una persona in qualsiasi momento.",
			TextConversationClosed: "Questa conversazione è stata chiusa. Grazie per averci contattato!",
			TextUnsure:             "Non ne sono certo, ma la nostra documentazione dice:",
		}},
	"nl": {code: "nl", name: "Dutch", letters: "ĳ",
		stop: `de het een en of van in op aan voor met is zijn was waren ik jij je hij zij wij jullie mijn mijn uw ons
		onze niet geen hoe wat waarom wanneer waar wie welke kan kunnen moet heb hebben wordt worden ook maar bij naar
		dit dat deze die hallo hoi dank bedankt alstublieft graag`,
		texts: map[TextKey]string{
			TextDeclined:           "Ik heb dit niet in onze documentatie gevonden. Wilt u met een medewerker praten?",
			TextDeclinedHandedOff:  "Ik heb dit niet in onze documentatie gevonden, dus ik heb uw vraag aan ons team doorgegeven.",
			TextFailedHandedOff:    "Sorry, ik kan nu niet antwoorden, dus ik heb uw vraag aan ons team doorgegeven.",
			TextFailed:             "Sorry, ik kan nu niet antwoorden. Wilt u met een medewerker van ons team praten?",
			TextRephrase:           "Kunt u iets meer vertellen over wat u zoekt?",
			TextHandoffWaiting:     "Ik heb een collega gevraagd om mee te doen; u krijgt hier zo snel mogelijk antwoord.",
			TextNoAgentOnline:      "Ons team is op dit moment niet beschikbaar. Laat hier uw bericht achter, dan nemen we zo snel mogelijk contact op.",
			TextAgentJoined:        "%s neemt deel aan het gesprek.",
			TextBackToBot:          "U praat weer met de assistent. U kunt op elk moment om een medewerker vragen.",
			TextConversationClosed: "Dit gesprek is gesloten. Bedankt voor uw bericht!",
			TextUnsure:             "Ik weet het niet zeker, maar onze documentatie zegt:",
		}},
}

// detection weights: a word in the lists of k languages counts 1/k for
// each; a telltale letter counts letterWeight.
var (
	detectWords  = map[string][]string{} // word -> languages listing it
	letterWeight = 0.5
)

func init() {
	for _, code := range Languages {
		seen := map[string]bool{}
		for _, w := range rawWords(languages[code].stop) {
			if !seen[w] {
				seen[w] = true
				detectWords[w] = append(detectWords[w], code)
			}
		}
	}
}

// BaseLanguage returns the BCP-47 base of tag in lower case ("fr-CA" →
// "fr"), or "en" when it is not a supported language.
func BaseLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	if _, ok := languages[base]; ok {
		return base
	}
	return "en"
}

// LanguageName is the English name of a supported language ("French"),
// "English" for others.
func LanguageName(tag string) string { return languages[BaseLanguage(tag)].name }

// DetectLanguage guesses the language of text among Languages from its
// function words, greetings and telltale letters; "en" when it cannot tell.
func DetectLanguage(text string) string {
	lang, _ := detectLanguage(text)
	return lang
}

// detectLanguage returns the best language and its evidence (0: none, the
// answer is the default "en").
func detectLanguage(text string) (string, float64) {
	scores := map[string]float64{}
	for _, w := range rawWords(text) {
		// Elisions: "l'équipe", "qu'est-ce", "j'ai" count by their head too.
		if head, _, ok := strings.Cut(w, "'"); ok && len(head) <= 3 {
			if langs := detectWords[head+"'"]; len(langs) > 0 {
				for _, l := range langs {
					scores[l] += 1 / float64(len(langs))
				}
				continue
			}
		}
		if langs := detectWords[w]; len(langs) > 0 {
			for _, l := range langs {
				scores[l] += 1 / float64(len(langs))
			}
		}
	}
	lower := strings.ToLower(text)
	for _, code := range Languages {
		for _, r := range languages[code].letters {
			if n := strings.Count(lower, string(r)); n > 0 {
				scores[code] += letterWeight * float64(min(n, 3))
			}
		}
	}
	best, bestScore := "en", 0.0
	for _, code := range Languages { // fixed order: ties go to the first
		if s := scores[code]; s > bestScore+1e-9 {
			best, bestScore = code, s
		}
	}
	if bestScore < 0.5 {
		return "en", 0
	}
	return best, bestScore
}

// Text returns the text key in lang (a BCP-47 tag; English when lang is
// not supported), "" for an unknown key.
func Text(lang string, key TextKey) string {
	if s, ok := languages[BaseLanguage(lang)].texts[key]; ok {
		return s
	}
	return languages["en"].texts[key]
}

// AgentJoined is TextAgentJoined in lang with the agent's name.
func AgentJoined(lang, name string) string {
	name = oneLine(name)
	if name == "" {
		name = "A teammate"
		if l := BaseLanguage(lang); l != "en" {
			name = map[string]string{"fr": "Un membre de l'équipe", "es": "Un compañero", "de": "Ein Teammitglied",
				"pt": "Um colega", "it": "Un collega", "nl": "Een medewerker"}[l]
		}
	}
	return fmt.Sprintf(Text(lang, TextAgentJoined), name)
}
