# Golden values for tests/stats/test_meta.py from R metafor (3.8-1 on R 4.2.2, Debian).
# Regenerate from the repository root:  Rscript tests/reference/meta.R
# Data: examples/meta/neratinib_orr.csv (proportions) and the hazard ratios written out below.
# Root finding and Fisher scoring are run to 1e-12 (control=) so that the golden values are the estimators'
# exact solutions rather than metafor's default stopping points (tol ≈ 1e-4 for PM's uniroot).
suppressMessages(library(metafor))
source("tests/reference/_json.R")
orr <- read.csv("examples/meta/neratinib_orr.csv")
hr <- data.frame(study = c("a", "b", "c", "d", "e"), hr = c(0.67, 0.73, 0.76, 0.88, 0.58),
                 lower = c(0.50, 0.57, 0.63, 0.72, 0.41), upper = c(0.91, 0.92, 0.93, 1.07, 0.82))
hr$yi <- log(hr$hr); hr$sei <- (log(hr$upper) - log(hr$lower)) / (2 * qnorm(0.975))
ctl <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)
one <- function(r) {
  p <- predict(r)
  list(estimate = r$beta[1], se = r$se, ci_low = r$ci.lb, ci_high = r$ci.ub, stat = r$zval, p = r$pval,
       tau2 = r$tau2, q = r$QE, q_p = r$QEp, i2 = r$I2, h2 = r$H2, pi_low = p$pi.lb, pi_high = p$pi.ub)
}
out <- list(r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")))
for (m in c("PLO", "PFT")) {
  e <- escalc(measure = m, xi = events, ni = n, data = orr)
  for (meth in c("DL", "REML", "PM")) for (tt in c("z", "knha"))
    out[[paste(m, meth, tt, sep = "_")]] <- one(rma(yi, vi, data = e, method = meth, test = tt, control = ctl))
}
for (meth in c("DL", "REML", "PM")) for (tt in c("z", "knha"))
  out[[paste("HR", meth, tt, sep = "_")]] <- one(rma(yi, sei = sei, data = hr, method = meth, test = tt, control = ctl))
g <- rma.glmm(measure = "PLO", xi = events, ni = n, data = orr, method = "ML")
out$GLMM <- list(estimate = g$beta[1], se = g$se, tau2 = g$tau2, ci_low = g$ci.lb, ci_high = g$ci.ub, p = g$pval)
e <- escalc(measure = "PFT", xi = events, ni = n, data = orr)
r <- rma(yi, vi, data = e, method = "REML", control = ctl)
out$PFT_pooled <- list(estimate = transf.ipft.hm(r$beta[1], targs = list(ni = orr$n)),
                       ci_low = transf.ipft.hm(r$ci.lb, targs = list(ni = orr$n)),
                       ci_high = transf.ipft.hm(r$ci.ub, targs = list(ni = orr$n)))
l <- leave1out(r)
out$PFT_REML_loo <- list(estimate = l$estimate, se = l$se, tau2 = l$tau2, i2 = l$I2, q = l$Q)
eg <- regtest(rma(yi, vi, data = escalc(measure = "PLO", xi = events, ni = n, data = orr)), model = "lm")
out$egger_PLO <- list(t = eg$zval, p = eg$pval, df = eg$dfs, limit_estimate = eg$est)
sub <- list()
for (lv in c("breast", "lung")) sub[[lv]] <- one(rma(yi, vi, data = e[orr$tumour == lv, ], method = "REML", control = ctl))
fe <- rma(c(sub$breast$estimate, sub$lung$estimate), sei = c(sub$breast$se, sub$lung$se), method = "FE")
out$PFT_REML_subgroups <- list(breast = sub$breast, lung = sub$lung, q_between = fe$QE, p = fe$QEp)
write_json(out, "tests/reference/meta.json")
