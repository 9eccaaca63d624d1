package providertest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
)

type openAIEmbedRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

type openAIDatum struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// parseOpenAIEmbed reads an embeddings request into req.
func parseOpenAIEmbed(req *Request, body []byte) (openAIEmbedRequest, error) {
	var in openAIEmbedRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return in, err
	}
	req.Model, req.EncodingFormat = in.Model, in.EncodingFormat
	if in.Dimensions != nil {
		req.Dimensions = []int{*in.Dimensions}
	}
	var one string
	if json.Unmarshal(in.Input, &one) == nil {
		req.Texts = []string{one}
	} else if err := json.Unmarshal(in.Input, &req.Texts); err != nil {
		return in, errors.New("'input' must be a string or an array of strings")
	}
	return in, nil
}

// serveOpenAIEmbed answers a well-formed embeddings request and returns
// the status answered.
func serveOpenAIEmbed(opts *OpenAIOptions, req Request, in openAIEmbedRequest, w http.ResponseWriter) int {
	fail := func(status int, typ, ecode, message string) int {
		writeJSON(w, status, openAIErrorBody(message, typ, errorCode(ecode)))
		return status
	}
	if in.Model == "" || (len(opts.Models) > 0 && !slices.Contains(opts.Models, in.Model)) {
		return fail(404, "invalid_request_error", "model_not_found", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", in.Model))
	}
	if len(req.Texts) == 0 || len(req.Texts) > 2048 {
		return fail(400, "invalid_request_error", "", "'input' must have between 1 and 2048 items")
	}
	for i, t := range req.Texts {
		if t == "" {
			return fail(400, "invalid_request_error", "", fmt.Sprintf("'$.input[%d]' is invalid: empty string", i))
		}
	}
	if in.EncodingFormat != "" && in.EncodingFormat != "float" && in.EncodingFormat != "base64" {
		return fail(400, "invalid_request_error", "", fmt.Sprintf("%q is not one of ['float', 'base64'] - 'encoding_format'", in.EncodingFormat))
	}
	dim := opts.Dimension
	if in.Dimensions != nil {
		if opts.RejectDimensions {
			return fail(400, "invalid_request_error", "", fmt.Sprintf("Model %s does not support matryoshka representation, changing output dimensions will lead to poor results.", in.Model))
		}
		if *in.Dimensions < 1 || *in.Dimensions > opts.Dimension {
			return fail(400, "invalid_request_error", "", fmt.Sprintf("'dimensions' must be between 1 and %d", opts.Dimension))
		}
		dim = *in.Dimensions
	}

	vecs := make([][]float32, len(req.Texts))
	for i, t := range req.Texts {
		v := Vector(t, opts.Dimension)
		if dim < len(v) {
			v = Normalized(v[:dim])
		}
		vecs[i] = v
	}
	if opts.Transform != nil {
		vecs = opts.Transform(req, vecs)
	}
	data := make([]openAIDatum, len(vecs))
	tokens := 0
	for i, v := range vecs {
		var emb any = v
		if opts.Base64 || in.EncodingFormat == "base64" {
			b := make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
			}
			emb = base64.StdEncoding.EncodeToString(b)
		}
		data[i] = openAIDatum{Object: "embedding", Index: i, Embedding: emb}
	}
	for _, t := range req.Texts {
		tokens += len(strings.Fields(t))
	}
	if opts.Reverse {
		slices.Reverse(data)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  in.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
	return http.StatusOK
}
