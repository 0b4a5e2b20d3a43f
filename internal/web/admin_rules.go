package web

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// The rule profiles page (走访规则方案): the profiles and which one judges
// each county and town (a town inherits its county's unless it has its
// own), and the admin's form attaching a profile to a region
// (compliance.Service.AssignProfile, as PUT /regions/{id}/rule-profile).

type rulesPage struct {
	CSRF     string
	Profiles Table
	Regions  Table
	Assign   *assignForm // admins only: the service refuses anyone else
}

type assignForm struct {
	form
	Regions  []optionGroup
	Profiles []option
}

func (c *Console) rules(r *http.Request, s *session) (any, error) { return c.rulesWith(r, s, "", nil) }

func (c *Console) rulesWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	profiles, err := c.deps.Compliance.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	out := rulesPage{CSRF: s.csrf, Profiles: Table{Head: []string{"方案代码", "方案名称", "版本", "规则数", "来源"}},
		Regions: Table{Head: []string{"区划", "级别", "适用方案", "来源"}, Empty: "辖区内没有县或乡镇。"}}
	var choices []option
	for _, pr := range profiles {
		origin := "自定义"
		if pr.Builtin {
			origin = "内置"
		}
		out.Profiles.Rows = append(out.Profiles.Rows, []Cell{textCell(pr.Code), textCell(pr.NameZH), numCell(int64(pr.Version)), numCell(int64(len(pr.Rules))), textCell(origin)})
		choices = append(choices, option{Value: pr.Code, Label: pr.NameZH + "（" + pr.Code + "）"})
	}
	groups, err := c.regionChoices(r, s, domain.LevelCounty, domain.LevelTown)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, o := range g.Options {
			id, _ := uuid.Parse(o.Value)
			a, err := c.deps.Compliance.RegionProfile(ctx, p, id)
			if err != nil {
				return nil, err
			}
			origin := "本级设置"
			if !a.Own {
				origin = "沿用上级"
				if a.InheritedBy != nil {
					origin = fmt.Sprintf("沿用%s", a.InheritedBy.Name)
				}
			}
			out.Regions.Rows = append(out.Regions.Rows, []Cell{textCell(o.Label), textCell(g.Label), textCell(a.Profile.NameZH), textCell(origin)})
		}
	}
	if p.Role == domain.RoleAdmin {
		out.Assign = &assignForm{Regions: groups,
			Profiles: append([]option{{Value: "", Label: "（取消本级设置，沿用上级）"}}, choices...)}
		if posted != nil {
			out.Assign.form = *posted
		}
		out.Assign.Regions, out.Assign.Profiles = selectedGroups(groups, out.Assign.form, "region_id"), selected(out.Assign.Profiles, out.Assign.form, "profile_code")
	}
	return out, nil
}

var assignProfile = formPost{template: "admin_rules.html", reload: (*Console).rulesWith, fields: map[string]string{"profile_code": "profile_code"},
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		region := formUUID(f, "region_id", "区划")
		if region == nil && !f.Failed() {
			f.add("region_id", "请选择县或乡镇")
		}
		if f.Failed() {
			return "", nil
		}
		_, err := c.deps.Compliance.AssignProfile(r.Context(), s.principal, *region, f.Value("profile_code"))
		return "/ui/admin/rules", err
	}}.handle
