package inspect

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Kinds of accountability action (问责).
const (
	ActionSupervisionOrder = "supervision_order" // 督办单: the target must act and report back
	ActionCircular         = "circular"          // 通报: named in a circular
	ActionWarning          = "warning"           // 黄牌警告
)

// ActionKinds labels the kinds.
var ActionKinds = domain.Vocabulary{
	{Code: ActionSupervisionOrder, Label: "督办单"}, {Code: ActionCircular, Label: "通报"}, {Code: ActionWarning, Label: "黄牌警告"},
}

// Action is an accountability action against a unit or a cadre, with its
// follow-up (the target's answer, or what became of it).
type Action struct {
	ID           uuid.UUID
	CountyID     *uuid.UUID
	CampaignID   *uuid.UUID
	Kind         string
	TargetUnitID *uuid.UUID
	TargetUserID *uuid.UUID
	// RegionPath is the target's region: the action is seen by the
	// managers of that region and above it.
	RegionPath   string
	Reason       string
	IssuedBy     uuid.UUID
	IssuedAt     time.Time
	FollowUp     string
	FollowedUpOn *domain.Date
	Version      int64
}

// visibleTo says whether p may see the action: a manager whose region
// contains the target's.
func (a Action) visibleTo(p domain.Principal) bool { return p.Manages() && p.InSubtree(a.RegionPath) }

// NamedAction is an action with the names its answer shows: its target's
// and its issuer's.
type NamedAction struct {
	Action
	Names map[uuid.UUID]string
}

// NewAction is what a supervisor issues.
type NewAction struct {
	Kind         string
	CampaignID   *uuid.UUID
	TargetUnitID *uuid.UUID
	TargetUserID *uuid.UUID
	Reason       string
}

const maxActionText = 2000

func auditAction(p domain.Principal, action string, a Action, detail map[string]any) domain.AuditEntry {
	actor := p.UserID
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: "accountability", ObjectID: a.ID.String(),
		RegionPath: a.RegionPath, Detail: detail, RequestID: p.RequestID}
}

// IssueAction records a supervision order, circular or warning (admins and
// supervisors) against a unit or a user of their subtree, optionally for a
// campaign they may see.
func (s *Service) IssueAction(ctx context.Context, p domain.Principal, in NewAction) (NamedAction, error) {
	if !p.Manages() {
		return NamedAction{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	if !ActionKinds.Has(in.Kind) {
		fe.Add("/kind", "invalid_enum", "kind must be supervision_order, circular or warning", "问责类型无效")
	}
	domain.CheckText(&fe, "/reason", "问责事由", in.Reason, 1, maxActionText)
	a := Action{ID: uuid.New(), Kind: in.Kind, CampaignID: in.CampaignID, Reason: strings.TrimSpace(in.Reason), IssuedBy: p.UserID,
		IssuedAt: s.now().UTC(), Version: 1}
	var region domain.Region
	var err error
	switch {
	case in.TargetUnitID != nil && in.TargetUserID != nil:
		fe.Add("/target_user_id", "exclusive", "name a unit or a user, not both", "问责对象只能是一个单位或一名人员")
	case in.TargetUnitID != nil:
		region, err = s.store.UnitRegion(ctx, *in.TargetUnitID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return NamedAction{}, err
		}
		if err != nil || !p.InSubtree(region.Path) {
			fe.Add("/target_unit_id", "unknown", "no such unit in your region", "本辖区没有该单位")
		}
		a.TargetUnitID = in.TargetUnitID
	case in.TargetUserID != nil:
		u, err := s.store.User(ctx, *in.TargetUserID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return NamedAction{}, err
		}
		if err != nil || !p.InSubtree(u.RegionPath) || u.Role == domain.RoleAdmin {
			fe.Add("/target_user_id", "unknown", "no such cadre or official in your region", "本辖区没有该人员")
		} else if region, err = s.store.Region(ctx, u.RegionID); err != nil {
			return NamedAction{}, err
		}
		a.TargetUserID = in.TargetUserID
	default:
		fe.Add("/target_unit_id", "required", "name the unit or the user (target_user_id) the action is against", "请指定问责的单位或人员")
	}
	if in.CampaignID != nil {
		c, err := s.store.Campaign(ctx, *in.CampaignID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return NamedAction{}, err
		}
		switch {
		case err != nil || !c.VisibleTo(p):
			fe.Add("/campaign_id", "unknown", "no such campaign", "督查不存在")
		case c.Mode == ModeUnannounced && c.Status != StatusEnded:
			// The action is seen by the target's office; naming a running
			// unannounced campaign would announce it.
			fe.Add("/campaign_id", "unannounced", "an unannounced campaign is named in actions only once it has ended", "暗访督查结束后才能据此问责")
		}
	}
	if err := fe.Err(); err != nil {
		return NamedAction{}, err
	}
	a.RegionPath, a.CountyID = region.Path, region.CountyID
	if err := s.store.CreateAction(ctx, a, auditAction(p, "create", a, map[string]any{"kind": a.Kind})); err != nil {
		return NamedAction{}, err
	}
	names, err := s.actionNames(ctx, a)
	return NamedAction{Action: a, Names: names}, err
}

// ActionQuery filters a listing.
type ActionQuery struct {
	RegionID   *uuid.UUID // actions against targets in this region
	CampaignID *uuid.UUID
	Limit      int
	Offset     int
}

// ActionFilter is ActionQuery as the store reads it.
type ActionFilter struct {
	WithinPath string
	CampaignID *uuid.UUID
	Limit      int
	Offset     int
}

// Actions lists the actions against targets in the caller's region (or
// the region asked for), newest first.
func (s *Service) Actions(ctx context.Context, p domain.Principal, q ActionQuery) ([]NamedAction, int64, error) {
	if !p.Manages() {
		return nil, 0, domain.Forbidden()
	}
	path := p.RegionPath
	if q.RegionID != nil {
		r, err := s.store.RegionWithin(ctx, p.RegionPath, *q.RegionID)
		if err != nil {
			return nil, 0, err
		}
		path = r.Path
	}
	as, total, err := s.store.Actions(ctx, ActionFilter{WithinPath: path, CampaignID: q.CampaignID, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return nil, 0, err
	}
	names, err := s.actionNames(ctx, as...)
	out := make([]NamedAction, len(as))
	for i, a := range as {
		out[i] = NamedAction{Action: a, Names: names}
	}
	return out, total, err
}

// FollowUp is the answer to an action: what was done, and on which day.
type FollowUp struct {
	Text    string
	On      domain.Date
	Version int64 // the version of the action being followed up
}

// FollowUpAction records, or replaces, an action's follow-up. The managers
// who see the action may: the issuing office, or the target's office
// reporting back; the audit log keeps every earlier follow-up.
func (s *Service) FollowUpAction(ctx context.Context, p domain.Principal, id uuid.UUID, in FollowUp) (NamedAction, error) {
	if !p.Manages() {
		return NamedAction{}, domain.Forbidden()
	}
	var out Action
	err := s.inTx(ctx, func(tx *Service) error {
		a, err := tx.store.ActionForUpdate(ctx, id)
		if domain.IsCode(err, domain.CodeNotFound) || (err == nil && !a.visibleTo(p)) {
			return domain.NotFound("accountability action")
		}
		if err != nil {
			return err
		}
		var fe domain.FieldErrors
		domain.CheckText(&fe, "/follow_up", "整改反馈", in.Text, 1, maxActionText)
		today := domain.DateOf(tx.now())
		switch {
		case in.On.IsZero():
			fe.Required("/followed_up_on", "反馈日期")
		case in.On.After(today):
			fe.Add("/followed_up_on", "out_of_range", "followed_up_on is in the future", "反馈日期不能晚于今天")
		case in.On.Before(domain.DateOf(a.IssuedAt)):
			fe.Add("/followed_up_on", "out_of_range", "followed_up_on is before the action was issued", "反馈日期早于下发日期")
		}
		if in.Version < 1 {
			fe.Required("/version", "版本号")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if in.Version != a.Version {
			return domain.Stale("accountability action", "问责事项")
		}
		on := in.On
		a.FollowUp, a.FollowedUpOn, a.Version = strings.TrimSpace(in.Text), &on, a.Version+1
		if err := tx.store.SaveFollowUp(ctx, a, in.Version, auditAction(p, "follow_up", a, map[string]any{"followed_up_on": on.String()})); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return NamedAction{}, err
	}
	names, err := s.actionNames(ctx, out)
	return NamedAction{Action: out, Names: names}, err
}

// actionNames names the actions' targets and issuers.
func (s *Service) actionNames(ctx context.Context, as ...Action) (map[uuid.UUID]string, error) {
	var users, units []uuid.UUID
	for _, a := range as {
		users = append(users, a.IssuedBy)
		if a.TargetUserID != nil {
			users = append(users, *a.TargetUserID)
		}
		if a.TargetUnitID != nil {
			units = append(units, *a.TargetUnitID)
		}
	}
	out, err := s.store.Names(ctx, users)
	if err != nil {
		return nil, err
	}
	un, err := s.store.UnitNames(ctx, units)
	for k, v := range un {
		out[k] = v
	}
	return out, err
}
