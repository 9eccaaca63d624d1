package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

type geminiEmbedRequest struct {
	Model                string         `json:"model,omitempty"`
	Content              *geminiContent `json:"content"`
	TaskType             string         `json:"taskType,omitempty"`
	Title                string         `json:"title,omitempty"`
	OutputDimensionality *int           `json:"outputDimensionality,omitempty"`
}

type geminiBatchRequest struct {
	Requests []geminiEmbedRequest `json:"requests"`
}

type geminiEmbedding struct {
	Values []float32 `json:"values"`
}

var geminiTaskTypes = []string{
	"TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
	"CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY",
}

// parseGeminiEmbed reads a batchEmbedContents or embedContent request
// into req, and returns it as a batch; unknown fields are errors, as the
// real API has them.
func parseGeminiEmbed(req *Request, body []byte) (geminiBatchRequest, error) {
	var batch geminiBatchRequest
	var err error
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch req.Method {
	case "batchEmbedContents":
		err = dec.Decode(&batch)
	case "embedContent":
		var one geminiEmbedRequest
		err = dec.Decode(&one)
		batch.Requests = []geminiEmbedRequest{one}
	}
	for _, e := range batch.Requests {
		var text []string
		if e.Content != nil {
			for _, p := range e.Content.Parts {
				text = append(text, p.Text)
			}
		}
		req.Texts = append(req.Texts, strings.Join(text, " "))
		req.TaskTypes = append(req.TaskTypes, e.TaskType)
		d := 0
		if e.OutputDimensionality != nil {
			d = *e.OutputDimensionality
		}
		req.Dimensions = append(req.Dimensions, d)
	}
	return batch, err
}

// serveGeminiEmbed answers a well-formed embedding request and returns
// the status answered.
func serveGeminiEmbed(opts *GeminiOptions, req Request, batch geminiBatchRequest, w http.ResponseWriter) int {
	fail := func(code int, st, msg string) int {
		writeJSON(w, code, geminiErrorBody(code, st, msg))
		return code
	}
	if req.Method == "batchEmbedContents" && len(batch.Requests) == 0 {
		return fail(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: contents is not specified")
	}
	if len(batch.Requests) > opts.MaxBatch {
		return fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests: at most %d requests can be in one batch", opts.MaxBatch))
	}
	for i, e := range batch.Requests {
		if req.Method == "batchEmbedContents" && e.Model != "models/"+req.Model {
			return fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].model: the model in the request (%q) must match the model in the URL (%q)", i, e.Model, "models/"+req.Model))
		}
		if strings.TrimSpace(req.Texts[i]) == "" {
			return fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content.parts[0].data: required oneof field 'data' must have one initialized field", i))
		}
		if e.TaskType != "" && !slices.Contains(geminiTaskTypes, e.TaskType) {
			return fail(400, "INVALID_ARGUMENT", fmt.Sprintf("Invalid value at 'requests[%d].task_type' (type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), %q", i, e.TaskType))
		}
		if d := req.Dimensions[i]; d < 0 || d > opts.NativeDimension {
			return fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].output_dimensionality: must be between 1 and %d", i, opts.NativeDimension))
		}
	}

	vecs := make([][]float32, len(req.Texts))
	for i, text := range req.Texts {
		v := Vector(text, opts.NativeDimension)
		if d := req.Dimensions[i]; d > 0 {
			v = v[:d]
		}
		vecs[i] = v
	}
	if opts.Transform != nil {
		vecs = opts.Transform(req, vecs)
	}
	if req.Method == "embedContent" {
		var v []float32
		if len(vecs) > 0 {
			v = vecs[0]
		}
		writeJSON(w, http.StatusOK, map[string]any{"embedding": geminiEmbedding{Values: v}})
		return http.StatusOK
	}
	out := make([]geminiEmbedding, len(vecs))
	for i, v := range vecs {
		out[i] = geminiEmbedding{Values: v}
	}
	writeJSON(w, http.StatusOK, map[string]any{"embeddings": out})
	return http.StatusOK
}
