# Live R oracle for tests/stats/test_live_r.py: the test writes a batch of generated cohorts to one CSV,
# this script analyses every cohort with R and writes one JSON file; the test compares field by field.
#   Rscript tests/stats/live_r.R WHAT IN.csv OUT.json
# WHAT: km | logrank | cox | rmst | maxstat (IN.csv: id, time, event, group, strata, x1, marker, tau) or
# meta (IN.csv: id, events, n — one meta-analysis per id, one row per study).
# Every analysis is wrapped so that an R error or warning is reported (as text), never fatal.
suppressMessages(library(survival))
if (commandArgs(trailingOnly = TRUE)[1] == "maxstat") suppressMessages(library(maxstat))
if (commandArgs(trailingOnly = TRUE)[1] == "meta") suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(here, "..", "reference", "_json.R"))
what <- args[1]
all <- read.csv(args[2])

catching <- function(expr) {
  msgs <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) list(error = conditionMessage(e))),
    warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") })
  if (is.list(value)) value$warnings <- as.list(msgs)
  value
}

km <- function(d) {
  res <- list()
  for (conf in c("log", "log-log", "plain")) {
    fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = conf)
    tab <- summary(fit)$table
    one <- list(median = unname(tab["median"]), lcl = unname(tab[grep("LCL", names(tab))]),
                ucl = unname(tab[grep("UCL", names(tab))]))
    if (conf == "log") {
      one <- c(one, list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, surv = fit$surv,
                         std_err = fit$std.err, lower = fit$lower, upper = fit$upper))
    }
    res[[conf]] <- one
  }
  res
}

logrank <- function(d) {
  out <- list(chisq = NA, chisq_strata = NA)
  if (length(unique(d$group)) > 1) {
    out$chisq <- survdiff(Surv(time, event) ~ group, data = d)$chisq
    if (length(unique(d$strata)) > 1) out$chisq_strata <- survdiff(Surv(time, event) ~ group + strata(strata), data = d)$chisq
  }
  out
}

cox1 <- function(formula, d) {
  fit <- coxph(formula, data = d, ties = "efron", robust = TRUE)
  s <- summary(fit)$coefficients
  list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$naive.var))), robust_se = unname(sqrt(diag(fit$var))),
       loglik = fit$loglik[2], loglik_null = fit$loglik[1], iter = fit$iter, singular = any(is.na(coef(fit))))
}

cox <- function(d) {
  list(plain = catching(cox1(Surv(time, event) ~ x1 + group, d)),
       strata = catching(cox1(Surv(time, event) ~ x1 + group + strata(strata), d)))
}

rmst <- function(d) {
  tab <- summary(survfit(Surv(time, event) ~ 1, data = d), rmean = d$tau[1])$table
  list(tau = d$tau[1], rmean = unname(tab["rmean"]), se = unname(tab["se(rmean)"]))
}

maxstat <- function(d) {
  one <- function(p) {
    m <- maxstat.test(Surv(time, event) ~ marker, data = d, smethod = "LogRank", pmethod = p, minprop = 0.1, maxprop = 0.9)
    list(statistic = unname(m$statistic), estimate = unname(m$estimate), p = m$p.value)
  }
  list(lau94 = catching(one("Lau94")), lau92 = catching(one("Lau92")))
}

meta <- function(d) {
  # tolerances tightened so that R returns the estimators' exact roots (metafor's default PM tol is 1e-4)
  ctl <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)
  res <- list()
  for (m in c("PLO", "PFT")) {
    e <- escalc(measure = m, xi = events, ni = n, data = d)
    for (meth in c("DL", "REML", "PM")) for (tt in c("z", "knha")) {
      res[[paste(m, meth, tt, sep = "_")]] <- catching({
        r <- rma(yi, vi, data = e, method = meth, test = tt, control = ctl)
        p <- predict(r)
        list(estimate = r$beta[1], se = r$se, p = r$pval, tau2 = r$tau2, q = r$QE, i2 = r$I2, h2 = r$H2,
             ci_low = r$ci.lb, ci_high = r$ci.ub, pi_low = p$pi.lb, pi_high = p$pi.ub)
      })
    }
  }
  res$GLMM <- catching({
    g <- rma.glmm(measure = "PLO", xi = events, ni = n, data = d, method = "ML")
    list(estimate = g$beta[1], se = g$se, tau2 = g$tau2)
  })
  if (nrow(d) >= 3) res$egger <- catching({
    eg <- regtest(rma(yi, vi, data = escalc(measure = "PLO", xi = events, ni = n, data = d)), model = "lm")
    list(t = eg$zval, p = eg$pval)
  })
  res
}

fun <- switch(what, meta = meta, km = km, logrank = logrank, cox = cox, rmst = rmst, maxstat = maxstat)
out <- list()
for (id in unique(all$id)) {
  out[[as.character(id)]] <- catching(fun(all[all$id == id, ]))
}
write_json(out, args[3])
