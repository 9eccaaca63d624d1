package weaviate

import (
	"context"
	"encoding/binary"
	"math"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// searchClient is the gRPC search client (nil without Config.GRPC): the
// candidates' vectors come back as bytes, much cheaper than GraphQL's JSON
// (40 candidates of 384 floats).
func (s *Store) searchClient() pb.WeaviateClient {
	if s.cfg.GRPC == "" {
		return nil
	}
	s.grpcOnce.Do(func() {
		creds := insecure.NewCredentials()
		if s.secure {
			creds = credentials.NewClientTLSFromCert(nil, "")
		}
		conn, err := grpc.NewClient(s.cfg.GRPC, grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
		if err != nil {
			return
		}
		s.grpcConn, s.grpcSearch = conn, pb.NewWeaviateClient(conn)
	})
	return s.grpcSearch
}

// searchGRPC runs the candidate search over gRPC: hybrid when there are
// both words and a vector, BM25 or vector search otherwise. With filter,
// only the live generations are searched; without, the caller checks the
// hits' generations (the filter, a union of one bitmap per resource, costs
// Weaviate a few ms at 100,000 passages, and is needed only while a
// tenant holds generations that are not live: during writes, or after a
// crash).
func (s *Store) searchGRPC(ctx context.Context, c pb.WeaviateClient, tenant, query string, vec []float32, live []string, n int, filter bool) ([]hit, error) {
	req := &pb.SearchRequest{
		Collection: s.class, Tenant: tenant, Limit: uint32(n),
		Uses_123Api: true, Uses_125Api: true, Uses_127Api: true,
		Properties: &pb.PropertiesRequest{NonRefProperties: []string{pText, pTitle, pHeading, pURL, pPage, pOrdinal, pChunkID, pResourceID, pGeneration}},
		Metadata:   &pb.MetadataRequest{Vector: len(vec) > 0},
		Filters: &pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY,
			Target:    &pb.FilterTarget{Target: &pb.FilterTarget_Property{Property: pGeneration}},
			TestValue: &pb.Filters_ValueTextArray{ValueTextArray: &pb.TextArray{Values: live}}},
	}
	if !filter {
		req.Filters = nil
	}
	var vb []byte
	if len(vec) > 0 {
		vb = make([]byte, 4*len(vec))
		for i, x := range vec {
			binary.LittleEndian.PutUint32(vb[4*i:], math.Float32bits(x))
		}
	}
	vectors := []*pb.Vectors{{VectorBytes: vb, Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}
	props := []string{pTextStem, pTitleStem}
	switch {
	case query == "":
		req.NearVector = &pb.NearVector{Vectors: vectors}
	case len(vec) == 0:
		req.Bm25Search = &pb.BM25{Query: query, Properties: props}
	default:
		fusion := pb.Hybrid_FUSION_TYPE_RELATIVE_SCORE
		if s.cfg.Fusion == FusionRanked {
			fusion = pb.Hybrid_FUSION_TYPE_RANKED
		}
		req.HybridSearch = &pb.Hybrid{Query: query, Properties: props, Alpha: s.cfg.Alpha, FusionType: fusion, Vectors: vectors}
	}
	rep, err := c.Search(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]hit, 0, len(rep.GetResults()))
	for _, r := range rep.GetResults() {
		f := r.GetProperties().GetNonRefProps().GetFields()
		h := hit{
			Text: f[pText].GetTextValue(), Title: f[pTitle].GetTextValue(), Heading: f[pHeading].GetTextValue(),
			URL: f[pURL].GetTextValue(), Page: intValue(f[pPage]), Ordinal: intValue(f[pOrdinal]),
			ChunkID: f[pChunkID].GetTextValue(), ResourceID: f[pResourceID].GetTextValue(),
			Generation: f[pGeneration].GetTextValue(),
		}
		md := r.GetMetadata()
		b := md.GetVectorBytes()
		for _, v := range md.GetVectors() {
			if len(b) == 0 {
				b = v.GetVectorBytes()
			}
		}
		if len(b) > 0 {
			h.Additional.Vector = make([]float32, len(b)/4)
			for i := range h.Additional.Vector {
				h.Additional.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		} else if v := md.GetVector(); len(v) > 0 {
			h.Additional.Vector = v
		}
		out = append(out, h)
	}
	return out, nil
}

func intValue(v *pb.Value) float64 {
	if v == nil {
		return 0
	}
	if _, ok := v.GetKind().(*pb.Value_IntValue); ok {
		return float64(v.GetIntValue())
	}
	return v.GetNumberValue()
}

// recordsGRPC reads one page of the tenant's index records over gRPC (a
// search reads them all first: binary, far cheaper than GraphQL's JSON).
func (s *Store) recordsGRPC(ctx context.Context, c pb.WeaviateClient, tenant, after string, page int) ([]record, error) {
	rep, err := c.Search(ctx, &pb.SearchRequest{
		Collection: s.infoClass, Tenant: tenant, Limit: uint32(page), After: after,
		Uses_123Api: true, Uses_125Api: true, Uses_127Api: true,
		Properties: &pb.PropertiesRequest{NonRefProperties: []string{pKind, pResourceID, pGeneration, pEmbedder, pDimension}},
		Metadata:   &pb.MetadataRequest{Uuid: true},
	})
	if err != nil {
		return nil, err
	}
	out := make([]record, 0, len(rep.GetResults()))
	for _, r := range rep.GetResults() {
		f := r.GetProperties().GetNonRefProps().GetFields()
		rec := record{Kind: f[pKind].GetTextValue(), ResourceID: f[pResourceID].GetTextValue(),
			Generation: f[pGeneration].GetTextValue(), Embedder: f[pEmbedder].GetTextValue(), Dimension: intValue(f[pDimension])}
		rec.Additional.ID = r.GetMetadata().GetId()
		out = append(out, rec)
	}
	return out, nil
}

// countTermGRPC counts the passages whose stemmed properties hold stem, up
// to limit: a BM25 search returning no properties.
func (s *Store) countTermGRPC(ctx context.Context, c pb.WeaviateClient, tenant, stem string, limit int) (int, error) {
	rep, err := c.Search(ctx, &pb.SearchRequest{
		Collection: s.class, Tenant: tenant, Limit: uint32(limit),
		Uses_123Api: true, Uses_125Api: true, Uses_127Api: true,
		Properties: &pb.PropertiesRequest{},
		Metadata:   &pb.MetadataRequest{},
		Bm25Search: &pb.BM25{Query: stem, Properties: []string{pTextStem, pTitleStem}},
	})
	if err != nil {
		return 0, err
	}
	return len(rep.GetResults()), nil
}
