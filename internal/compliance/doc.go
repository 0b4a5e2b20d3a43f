// Package compliance owns keeping the rules' verdicts current and answering
// with them: it resolves which profile judges a household or cadre (a town's
// own, else its county's, else the built-in default), judges queued subjects
// with package rules and stores the statuses (the incremental path), and
// serves the worklist, household timeline, missed-visit report, at-risk
// forecast, coverage findings and period closes. Rules stay pure; SQL stays
// in storage, behind the port this package declares (Store, with the types
// it reads and writes), so the service never sees a row or a query;
// handlers only bind and map.
package compliance
