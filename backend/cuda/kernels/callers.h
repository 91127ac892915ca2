// The host's callers of the kernels of one type (T, S as in body.h): each
// unpacks the 8-byte arguments the Go side passes. Included twice by host.c.

static void S(call_bias_act)(const uint64_t* a) { S(bias_act)(P(0, T*), P(1, const T*), I(2), I(3), I(4)); }
static void S(call_relu_mask)(const uint64_t* a) { S(relu_mask)(P(0, T*), P(1, const T*), I(2)); }
static void S(call_gather)(const uint64_t* a) {
  S(gather)(P(0, T*), P(1, T*), P(2, const T*), P(3, const T*), P(4, const int*), I(5), I(6), I(7));
}
static void S(call_mse)(const uint64_t* a) {
  S(mse)(P(0, const T*), P(1, const T*), P(2, T*), P(3, T*), P(4, double*), I(5), I(6), D(7));
}
static void S(call_adam)(const uint64_t* a) {
  S(adam)(P(0, T*), P(1, const T*), P(2, T*), P(3, T*), I(4), D(5), D(6), D(7), D(8), D(9), D(10));
}
static void S(call_err_stats)(const uint64_t* a) {
  S(err_stats)(P(0, const T*), P(1, const double*), P(2, double*), I(3));
}
static void S(call_step_small)(const uint64_t* a) {
  S(step_small)(P(0, const i64*), I(1), P(2, T*), P(3, T*), P(4, T*), P(5, T*), P(6, T*), I(7), P(8, T*), P(9, T*),
                P(10, const T*), P(11, const T*), P(12, const int*), I(13), P(14, T*), I(15), P(16, double*), I(17),
                D(18), D(19), D(20), D(21), D(22), D(23), D(24), I(25), I(26), P(27, const double*));
}
static void S(call_step_multi)(const uint64_t* a) {
  S(step_multi)(P(0, const i64*), I(1), P(2, const T*), P(3, T*), I(4), P(5, T*), I(6), P(7, T*), P(8, T*),
                P(9, const T*), P(10, const T*), P(11, const int*), I(12), P(13, T*), I(14), P(15, double*), D(16),
                I(17));
}
static void S(call_reduce_adam)(const uint64_t* a) {
  S(reduce_adam)(P(0, const T*), I(1), I(2), P(3, T*), P(4, T*), P(5, T*), P(6, T*), P(7, const double*),
                 P(8, double*), I(9), D(10), D(11), D(12), D(13), D(14), D(15), I(16));
}
static void S(call_eval_pair)(const uint64_t* a) {
  S(eval_pair)(P(0, const T*), I(1), I(2), P(3, const i64*), I(4), P(5, const T*), P(6, const i64*), I(7),
               P(8, const double*), P(9, double*));
}
