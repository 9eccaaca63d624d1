package use

import "testing"

func BenchmarkMatmul128x512x1536(b *testing.B) {
	n, K, N := 128, 512, 1536
	a := make([]float32, n*K)
	bt := make([]float32, N*K)
	c := make([]float32, n*N)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bt {
		bt[i] = float32(i%5) * 0.1
	}
	for b.Loop() {
		matmulCols(c, a, n, K, bt, N, nil, 0, N)
	}
	b.ReportMetric(float64(n*K*N)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}
