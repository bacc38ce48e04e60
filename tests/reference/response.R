# Golden values for tests/stats/test_response.py.  Regenerate:  Rscript tests/reference/response.R
# (run from the repository root; writes tests/reference/response.json).
source("tests/reference/_json.R")
cases <- list(c(8, 25), c(18, 37), c(10, 39), c(0, 12), c(12, 12), c(1, 20), c(32, 81), c(4, 25))
out <- list()
for (cs in cases) {
  x <- cs[1]; n <- cs[2]
  for (lev in c(0.95, 0.90)) {
    bt <- binom.test(x, n, conf.level = lev)
    pt <- prop.test(x, n, conf.level = lev, correct = FALSE)   # Wilson score interval
    jl <- if (x == 0) 0 else qbeta((1 - lev) / 2, x + 0.5, n - x + 0.5)
    ju <- if (x == n) 1 else qbeta(1 - (1 - lev) / 2, x + 0.5, n - x + 0.5)
    out[[length(out) + 1]] <- list(
      call = sprintf("binom.test(%d, %d, conf.level=%.2f)", x, n, lev),
      responders = x, evaluable = n, level = lev,
      exact = as.numeric(bt$conf.int),
      wilson = as.numeric(pt$conf.int),
      jeffreys = c(jl, ju))
  }
}
tests <- list()
for (cs in list(c(8, 25, 0.1), c(10, 39, 0.1), c(18, 37, 0.2), c(5, 20, 0.1))) {
  tests[[length(tests) + 1]] <- list(
    call = sprintf("binom.test(%d, %d, p=%.2f, alternative=...)", cs[1], cs[2], cs[3]),
    responders = cs[1], evaluable = cs[2], p0 = cs[3],
    greater = binom.test(cs[1], cs[2], p = cs[3], alternative = "greater")$p.value,
    two_sided = binom.test(cs[1], cs[2], p = cs[3])$p.value)
}
write_json(list(r_version = R.version.string, intervals = out, tests = tests), "tests/reference/response.json")
